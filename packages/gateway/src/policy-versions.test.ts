import { settlementPolicies } from '@tokenwise/db/schema';
import { describeEachBackend } from '@tokenwise/db/testing';
import { beforeAll, expect, it } from 'vitest';
import { orgWithUser } from '@tokenwise/control/testing';
import { createSettlementVersionsLookup, policyVersionCacheMs } from './policy-versions';
import type { Principal } from './ports';

describeEachBackend('the settlement versions a request is admitted under', (database) => {
  let fixture: Awaited<ReturnType<typeof orgWithUser>>;
  let principal: Principal;
  let now = 1_000_000;
  const publish = (version: number) =>
    database()
      .db.insert(settlementPolicies)
      .values({
        teamId: fixture.team.id,
        version,
        createdBy: 'lead',
        body: { refunds: [{ minScore: 0.5, shareBps: 5_000 }] },
      });
  beforeAll(async () => {
    fixture = await orgWithUser(database().db);
    principal = {
      keyId: 'k',
      orgId: fixture.org.id,
      userId: fixture.user.id,
      teamId: fixture.team.id,
      systemOwner: null,
      scopes: ['inference'],
      allowedModels: null,
      rpmLimit: null,
      tpmLimit: null,
      carbonAwareRouting: true,
    };
  });

  it("pins the team's newest policy; a lead's change reaches requests by a background reread, before the cache ends, without one waiting", async () => {
    const lookup = createSettlementVersionsLookup(database().db, () => now);
    expect(await lookup(principal)).toEqual({ policyVersion: null, scoringConfigVersion: null });
    await publish(1);
    now += policyVersionCacheMs / 2 - 1;
    expect(await lookup(principal)).toEqual({ policyVersion: null, scoringConfigVersion: null });
    now += 1;
    // Half the cache's life: answered from memory, and reread behind it.
    expect(await lookup(principal)).toEqual({ policyVersion: null, scoringConfigVersion: null });
    await expect
      .poll(() => lookup(principal), { timeout: 5_000, interval: 20 })
      .toEqual({ policyVersion: 1, scoringConfigVersion: null });
  });

  it('reads again itself once the entry is as old as the cache allows', async () => {
    const lookup = createSettlementVersionsLookup(database().db, () => now);
    const before = await lookup(principal);
    await publish((before.policyVersion ?? 0) + 1);
    now += policyVersionCacheMs;
    expect(await lookup(principal)).toEqual({
      policyVersion: (before.policyVersion ?? 0) + 1,
      scoringConfigVersion: null,
    });
  });

  it('answers a principal without a team (system keys) with no versions, reading nothing', async () => {
    const lookup = createSettlementVersionsLookup(database().db, () => now);
    expect(await lookup({ ...principal, teamId: null })).toEqual({ policyVersion: null, scoringConfigVersion: null });
  });
});
