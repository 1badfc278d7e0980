import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createContextInner } from '../context';
import { createCaller } from '../router';
import { openApiFixture, type ApiFixture } from '../test-fixtures';

/** A caller verified another way (the Slack bot links people by email) has no key to derive from. */
describe('keys.create for a self-service caller (no API key)', () => {
  let fixture: ApiFixture;

  beforeAll(async () => {
    fixture = await openApiFixture();
  });
  afterAll(async () => {
    await fixture.close();
  });

  const caller = async (selfServiceKeys: boolean) => {
    const user = fixture.users.employee;
    return createCaller(
      await createContextInner({
        db: fixture.db,
        ledger: fixture.ledger,
        keyPepper: fixture.keyPepper,
        user: { userId: user.id, orgId: user.orgId, teamId: user.teamId, roles: user.roles },
        selfServiceKeys,
      }),
    );
  };

  it('creates an inference key for the caller, expiring within 90 days, derived from no key', async () => {
    const { key, secret } = await (await caller(true)).keys.create({ name: 'from slack' });
    expect(secret).toMatch(/^tw_/);
    expect(key).toMatchObject({ userId: fixture.users.employee.id, scopes: ['inference'], createdByKeyId: null });
    const days = (new Date(key.expiresAt ?? 0).getTime() - Date.now()) / 86_400_000;
    expect(days).toBeGreaterThan(89);
    expect(days).toBeLessThanOrEqual(90);
  });

  it('refuses more than that: the api scope, a key that never expires, a key for someone else', async () => {
    const self = await caller(true);
    await expect(self.keys.create({ name: 'x', scopes: ['inference', 'api'] })).rejects.toMatchObject({
      code: 'FORBIDDEN',
    });
    await expect(self.keys.create({ name: 'x', expiresInDays: null })).rejects.toMatchObject({ code: 'FORBIDDEN' });
    await expect(self.keys.create({ name: 'x', expiresInDays: 365 })).rejects.toMatchObject({ code: 'FORBIDDEN' });
    await expect(self.keys.create({ name: 'x', userId: fixture.users.colleague.id })).rejects.toMatchObject({
      code: 'FORBIDDEN',
    });
  });

  it('an in-process caller without the flag still creates no key for itself', async () => {
    await expect((await caller(false)).keys.create({ name: 'x' })).rejects.toMatchObject({ code: 'FORBIDDEN' });
  });
});
