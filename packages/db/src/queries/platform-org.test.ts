import { describeEachBackend } from '@tokenwise/db/testing';
import { expect, it } from 'vitest';
import { orgs } from '../schema/index';
import { listAuditForEntity } from './audit';
import { createOrg, isPlatformOrg, setPlatformOrg } from './orgs';

describeEachBackend('the platform org', (database) => {
  it('is at most one org: naming another moves the flag, audited', async () => {
    const db = database().db;
    const first = await createOrg(db, { actor: 'test', input: { slug: 'operator', name: 'Operator' } });
    const second = await createOrg(db, { actor: 'test', input: { slug: 'successor', name: 'Successor' } });
    expect(await isPlatformOrg(db, { orgId: first.id })).toBe(false);
    expect(await setPlatformOrg(db, { orgId: first.id, actor: 'cli:root' })).toEqual({ previousOrgId: null });
    expect(await setPlatformOrg(db, { orgId: second.id, actor: 'cli:root' })).toEqual({ previousOrgId: first.id });
    expect([await isPlatformOrg(db, { orgId: first.id }), await isPlatformOrg(db, { orgId: second.id })]).toEqual([
      false,
      true,
    ]);
    expect((await listAuditForEntity(db, { entityType: 'org', entityId: second.id })).map((row) => row.action)).toEqual(
      ['org.set_platform', 'org.create'],
    );
    await expect(db.update(orgs).set({ platform: true })).rejects.toThrow();
    await expect(
      setPlatformOrg(db, { orgId: '00000000-0000-4000-8000-000000000000', actor: 'cli:root' }),
    ).rejects.toThrow(/No org/);
    expect(await isPlatformOrg(db, { orgId: second.id })).toBe(true);
  });
});
