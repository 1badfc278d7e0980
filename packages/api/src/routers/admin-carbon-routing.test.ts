import { listAuditForEntity } from '@tokenwise/db';
import { createKeyStore } from '@tokenwise/control';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openApiFixture, type ApiFixture } from '../test-fixtures';

let f: ApiFixture;
beforeAll(async () => {
  f = await openApiFixture();
});
afterAll(async () => {
  await f?.close();
});

describe('admin: carbon-aware routing of the org', () => {
  it('is on by default; an admin turns it off and on for their own org only, audited', async () => {
    const admin = await f.as(f.users.admin);
    const other = await f.as(f.otherAdmin);
    expect(await admin.admin.carbonAwareRouting()).toEqual({ enabled: true });
    expect(await admin.admin.setCarbonAwareRouting({ enabled: false })).toEqual({
      orgId: f.org.id,
      enabled: false,
      previous: true,
    });
    expect(await admin.admin.carbonAwareRouting()).toEqual({ enabled: false });
    expect(await other.admin.carbonAwareRouting()).toEqual({ enabled: true });
    // Setting what is already set changes nothing and writes no audit row.
    expect(await admin.admin.setCarbonAwareRouting({ enabled: false })).toMatchObject({ previous: false });
    expect(await admin.admin.setCarbonAwareRouting({ enabled: true })).toMatchObject({
      enabled: true,
      previous: false,
    });
    const audit = await listAuditForEntity(f.db, { entityType: 'org', entityId: f.org.id });
    expect(
      audit
        .filter((row) => row.action === 'org.set_carbon_aware_routing')
        .map((row) => [row.actor, row.before, row.after]),
    ).toEqual([
      [`user:${f.users.admin.id}`, { carbonAwareRouting: false }, { carbonAwareRouting: true }],
      [`user:${f.users.admin.id}`, { carbonAwareRouting: true }, { carbonAwareRouting: false }],
    ]);
  });

  it('is refused to every role but admin', async () => {
    for (const user of [f.users.employee, f.users.lead, f.users.esg]) {
      const caller = await f.as(user);
      await expect(caller.admin.setCarbonAwareRouting({ enabled: false })).rejects.toMatchObject({
        code: 'FORBIDDEN',
      });
      await expect(caller.admin.carbonAwareRouting()).rejects.toMatchObject({ code: 'FORBIDDEN' });
    }
    expect(await (await f.as(f.users.admin)).admin.carbonAwareRouting()).toEqual({ enabled: true });
  });

  it('reaches the principal of every key of the org once its cached row is older than the cache TTL', async () => {
    let nowMs = Date.parse('2026-12-01T09:00:00Z');
    const keyStore = createKeyStore({
      db: f.db,
      pepper: f.keyPepper,
      clock: () => new Date(nowMs),
      cacheTtlMs: 1_000,
    });
    try {
      const { secret } = await f.withKey(f.users.employee);
      const bearer = `Bearer ${secret}`;
      expect((await keyStore.authenticate(bearer)).carbonAwareRouting).toBe(true);
      await (await f.as(f.users.admin)).admin.setCarbonAwareRouting({ enabled: false });
      nowMs += 1_000;
      expect((await keyStore.authenticate(bearer)).carbonAwareRouting).toBe(false);
    } finally {
      keyStore.close();
      await (await f.as(f.users.admin)).admin.setCarbonAwareRouting({ enabled: true });
    }
  });
});
