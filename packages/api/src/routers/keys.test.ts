import { listAuditForEntity } from '@tokenwise/db';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openApiFixture, type ApiFixture } from '../test-fixtures';

let f: ApiFixture;
beforeAll(async () => {
  f = await openApiFixture();
});
afterAll(async () => {
  await f?.close();
});

describe('keys', () => {
  it('create shows the secret once, list never shows it, and both are audited', async () => {
    const { caller: employee } = await f.withKey(f.users.employee);
    const { key, secret } = await employee.keys.create({ name: 'laptop', scopes: ['inference', 'api'] });
    expect(secret).toMatch(new RegExp(`^tw_${key.id}_`));
    expect(key.userId).toBe(f.users.employee.id);
    const listed = await employee.keys.list();
    expect(listed.map((item) => item.id)).toContain(key.id);
    expect(JSON.stringify(listed)).not.toContain(secret.slice(-20));
    expect(Object.keys(listed[0] ?? {})).not.toContain('secretHmac');
    const audit = await listAuditForEntity(f.db, { entityType: 'api_key', entityId: key.id });
    expect(audit.map((row) => row.action)).toEqual(['api_key.create']);
    expect(audit[0]?.actor).toBe(`user:${f.users.employee.id}`);
  });

  it('an employee may not create, list or revoke another user’s keys; an admin may', async () => {
    const employee = await f.as(f.users.employee);
    const lead = await f.as(f.users.lead);
    const admin = await f.as(f.users.admin);
    await expect(employee.keys.create({ name: 'x', userId: f.users.colleague.id })).rejects.toMatchObject({
      code: 'FORBIDDEN',
    });
    await expect(lead.keys.list({ userId: f.users.employee.id })).rejects.toMatchObject({ code: 'FORBIDDEN' });
    await expect(employee.keys.list({ allOfOrg: true })).rejects.toMatchObject({ code: 'FORBIDDEN' });
    const { key } = await admin.keys.create({ name: 'for carl', userId: f.users.colleague.id });
    await expect(employee.keys.revoke({ keyId: key.id })).rejects.toMatchObject({ code: 'FORBIDDEN' });
    const esg = await f.as(f.users.esg);
    await expect(esg.keys.revoke({ keyId: key.id })).rejects.toMatchObject({ code: 'FORBIDDEN' });
    expect((await admin.keys.list({ allOfOrg: true })).map((item) => item.id)).toContain(key.id);
    const revoked = await admin.keys.revoke({ keyId: key.id });
    expect(revoked.revokedAt).not.toBeNull();
    const audit = await listAuditForEntity(f.db, { entityType: 'api_key', entityId: key.id });
    expect(audit.map((row) => row.action)).toContain('api_key.revoke');
  });

  it('an employee revokes their own key; a key of another org is NOT_FOUND', async () => {
    const { caller: employee } = await f.withKey(f.users.employee);
    const { key } = await employee.keys.create({ name: 'old' });
    expect((await employee.keys.revoke({ keyId: key.id })).revokedAt).not.toBeNull();
    const otherAdmin = await f.as(f.otherAdmin);
    await expect(otherAdmin.keys.revoke({ keyId: key.id })).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('inputs are bounded: a malformed key id and an overlong name are BAD_REQUEST', async () => {
    const employee = await f.as(f.users.employee);
    await expect(employee.keys.revoke({ keyId: 'not-a-key' })).rejects.toMatchObject({ code: 'BAD_REQUEST' });
    await expect(employee.keys.create({ name: 'n'.repeat(101) })).rejects.toMatchObject({ code: 'BAD_REQUEST' });
  });
});
