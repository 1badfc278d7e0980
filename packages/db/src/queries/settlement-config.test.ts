import { NotFoundError, ValidationError } from '@tokenwise/core';
import { describeEachBackend } from '@tokenwise/db/testing';
import { eq } from 'drizzle-orm';
import { randomUUID } from 'node:crypto';
import { beforeAll, expect, it } from 'vitest';
import { scoringConfigs, settlementPolicies } from '../schema/index';
import { listAuditForEntity } from './audit';
import { createOrg } from './orgs';
import {
  currentScoringConfig,
  currentSettlementPolicy,
  getSettlementBounds,
  publishScoringConfig,
  publishSettlementPolicy,
  scoringPluginsMax,
  setSettlementBounds,
} from './settlement-config';
import { createTeam } from './users';

const actor = 'user:lead';
const judge = (weight: number) => ({ pluginId: 'llm-judge', weight, config: { judgeModel: 'sim-llama-8b' } });

describeEachBackend('settlement configuration queries', (db, backend) => {
  let orgId: string;
  const newTeam = async (slug: string) => (await createTeam(db().db, { actor, input: { orgId, slug, name: slug } })).id;
  beforeAll(async () => {
    orgId = (await createOrg(db().db, { actor, input: { slug: `cfg-${backend}`, name: 'Config' } })).id;
  });

  it('publishes scoring configurations as increasing versions, each with an audit row', async () => {
    const teamId = await newTeam('scoring');
    expect(await currentScoringConfig(db().db, { teamId })).toBeUndefined();
    const first = await publishScoringConfig(db().db, { teamId, plugins: [judge(1)], actor });
    expect(first).toMatchObject({ teamId, version: 1, plugins: [judge(1)], createdBy: actor });
    const second = await publishScoringConfig(db().db, {
      teamId,
      plugins: [judge(2), { pluginId: 'code-review', weight: 0.5 }],
      actor: 'user:other',
    });
    expect(second.version).toBe(2);
    expect(second.plugins[1]).toEqual({ pluginId: 'code-review', weight: 0.5, config: {} });
    expect(await currentScoringConfig(db().db, { teamId })).toEqual(second);

    const audit = await listAuditForEntity(db().db, { entityType: 'scoring_config', entityId: teamId });
    expect(audit.map((row) => [row.action, row.actor, row.orgId])).toEqual([
      ['scoring_config.publish', 'user:other', orgId],
      ['scoring_config.publish', actor, orgId],
    ]);
    expect(audit[0]).toMatchObject({ before: { version: 1, plugins: [judge(1)] }, after: { version: 2 } });
    expect(audit[1]).toMatchObject({ before: null, after: { version: 1 } });
  });

  it('refuses a bad scoring configuration naming the field, storing nothing', async () => {
    const teamId = await newTeam('scoring-bad');
    const refused = (plugins: unknown) =>
      expect(publishScoringConfig(db().db, { teamId, plugins, actor })).rejects.toThrow(ValidationError);
    await refused([judge(0)]);
    await expect(publishScoringConfig(db().db, { teamId, plugins: [judge(0)], actor })).rejects.toThrow(
      /0\.weight: must be greater than 0/,
    );
    await expect(publishScoringConfig(db().db, { teamId, plugins: [judge(100.5)], actor })).rejects.toThrow(
      /0\.weight: must be at most 100/,
    );
    await expect(publishScoringConfig(db().db, { teamId, plugins: [judge(1), judge(2)], actor })).rejects.toThrow(
      /1\.pluginId: "llm-judge" is listed twice/,
    );
    await expect(
      publishScoringConfig(db().db, { teamId, plugins: [{ pluginId: 'Bad Id', weight: 1 }], actor }),
    ).rejects.toThrow(/0\.pluginId: must be 2\.\.64 lowercase/);
    const many = Array.from({ length: scoringPluginsMax + 1 }, (_, index) => ({ pluginId: `p-${index}`, weight: 1 }));
    await expect(publishScoringConfig(db().db, { teamId, plugins: many, actor })).rejects.toThrow(/at most 16 plugins/);
    await expect(
      publishScoringConfig(db().db, { teamId, plugins: [{ ...judge(1), extra: true }], actor }),
    ).rejects.toThrow(/extra/);
    await refused({ pluginId: 'llm-judge' });
    await expect(publishScoringConfig(db().db, { teamId: randomUUID(), plugins: [], actor })).rejects.toThrow(
      NotFoundError,
    );
    expect(await currentScoringConfig(db().db, { teamId })).toBeUndefined();
  });

  it('gives concurrent publishes distinct versions', async () => {
    const teamId = await newTeam('concurrent');
    for (let round = 0; round < 3; round++) {
      const published = await Promise.all([
        publishScoringConfig(db().db, { teamId, plugins: [judge(1)], actor }),
        publishScoringConfig(db().db, { teamId, plugins: [judge(2)], actor }),
        publishSettlementPolicy(db().db, { teamId, body: { refunds: [{ minScore: 0.5, shareBps: 1_000 }] }, actor }),
        publishSettlementPolicy(db().db, { teamId, body: { refunds: [{ minScore: 0.6, shareBps: 2_000 }] }, actor }),
      ]);
      expect(
        published
          .slice(0, 2)
          .map((config) => config.version)
          .sort(),
      ).toEqual([round * 2 + 1, round * 2 + 2]);
      expect(
        published
          .slice(2)
          .map((policy) => policy.version)
          .sort(),
      ).toEqual([round * 2 + 1, round * 2 + 2]);
    }
    const configs = await db()
      .db.select({ version: scoringConfigs.version })
      .from(scoringConfigs)
      .where(eq(scoringConfigs.teamId, teamId));
    expect(configs.map((row) => row.version).sort()).toEqual([1, 2, 3, 4, 5, 6]);
    const policies = await db()
      .db.select({ version: settlementPolicies.version })
      .from(settlementPolicies)
      .where(eq(settlementPolicies.teamId, teamId));
    expect(policies).toHaveLength(6);
    expect(await listAuditForEntity(db().db, { entityType: 'settlement_policy', entityId: teamId })).toHaveLength(6);
  });

  it('publishes settlement policies with defaults filled in, as increasing versions with audit rows', async () => {
    const teamId = await newTeam('policy');
    expect(await currentSettlementPolicy(db().db, { teamId })).toBeUndefined();
    const first = await publishSettlementPolicy(db().db, {
      teamId,
      body: { refunds: [{ minScore: 0.8, shareBps: 3_000 }] },
      actor,
    });
    expect(first).toMatchObject({
      teamId,
      version: 1,
      policy: { refunds: [{ minScore: 0.8, shareBps: 3_000 }], minConfidence: 0.5 },
      warnings: [],
    });
    const second = await publishSettlementPolicy(db().db, { teamId, body: { refunds: [], minConfidence: 0.7 }, actor });
    expect(second.version).toBe(2);
    expect(await currentSettlementPolicy(db().db, { teamId })).toEqual(second);
    const audit = await listAuditForEntity(db().db, { entityType: 'settlement_policy', entityId: teamId });
    expect(audit[0]).toMatchObject({
      action: 'settlement_policy.publish',
      actor,
      orgId,
      before: { version: 1 },
      after: { version: 2, policy: { minConfidence: 0.7 } },
    });
  });

  it('refuses a bad policy naming the field', async () => {
    const teamId = await newTeam('policy-bad');
    await expect(
      publishSettlementPolicy(db().db, { teamId, body: { refunds: [{ minScore: 0.5, shareBps: 10_001 }] }, actor }),
    ).rejects.toThrow(/Invalid settlement policy: refunds\.0\.shareBps/);
    await expect(
      publishSettlementPolicy(db().db, { teamId, body: { refunds: [{ minScore: 1.5, shareBps: 1 }] }, actor }),
    ).rejects.toThrow(/refunds\.0\.minScore/);
    await expect(
      publishSettlementPolicy(db().db, { teamId, body: { reward: { minScore: 0.9, amount: '-x' } }, actor }),
    ).rejects.toThrow(/reward\.amount/);
    await expect(
      publishSettlementPolicy(db().db, {
        teamId,
        body: {
          refunds: [
            { minScore: 0.5, shareBps: 1 },
            { minScore: 0.5, shareBps: 2 },
          ],
        },
        actor,
      }),
    ).rejects.toThrow(/refunds: refund thresholds must be distinct/);
    expect(await currentSettlementPolicy(db().db, { teamId })).toBeUndefined();
  });

  it('stores a policy beyond the org bounds and names each exceeded bound', async () => {
    const org = (await createOrg(db().db, { actor, input: { slug: `bounded-${backend}`, name: 'Bounded' } })).id;
    const teamId = (await createTeam(db().db, { actor, input: { orgId: org, slug: 'greedy', name: 'Greedy' } })).id;
    const body = {
      refunds: [
        { minScore: 0.5, shareBps: 4_000 },
        { minScore: 0.9, shareBps: 9_000 },
      ],
      reward: { minScore: 0.95, amount: '500' },
    };
    const unbounded = await publishSettlementPolicy(db().db, { teamId, body, actor });
    // No bounds set: the defaults (5,000 bps, no reward) apply.
    expect(unbounded.warnings).toEqual([
      "refunds.1.shareBps 9000 exceeds the org's maxRefundShareBps 5000: settlements refund at most 5000 bps",
      "reward.amount 500 exceeds the org's maxRewardPerRequest 0: settlements reward at most 0 minor units",
    ]);
    await setSettlementBounds(db().db, {
      orgId: org,
      body: { maxRefundShareBps: 9_500, maxRewardPerRequest: '100' },
      actor: 'user:admin',
    });
    expect((await currentSettlementPolicy(db().db, { teamId }))?.warnings).toEqual([
      "reward.amount 500 exceeds the org's maxRewardPerRequest 100: settlements reward at most 100 minor units",
    ]);
    const within = await publishSettlementPolicy(db().db, {
      teamId,
      body: { ...body, reward: { minScore: 0.95, amount: '100' } },
      actor,
    });
    expect(within).toMatchObject({
      version: 2,
      warnings: [],
      policy: { reward: { amount: 100n, currency: 'priority' } },
    });
  });

  it('sets org bounds as an upsert, auditing before and after, and refuses bad bounds naming the field', async () => {
    const org = (await createOrg(db().db, { actor, input: { slug: `bounds-${backend}`, name: 'Bounds' } })).id;
    expect(await getSettlementBounds(db().db, { orgId: org })).toEqual({
      orgId: org,
      bounds: { maxRefundShareBps: 5_000, maxRewardPerRequest: 0n, maxRewardPerUserPerMonth: 0n },
      explicit: false,
      updatedBy: null,
      updatedAt: null,
    });
    const first = await setSettlementBounds(db().db, {
      orgId: org,
      body: { maxRefundShareBps: 2_500 },
      actor: 'user:admin',
    });
    expect(first).toMatchObject({
      orgId: org,
      bounds: { maxRefundShareBps: 2_500, maxRewardPerRequest: 0n },
      explicit: true,
      updatedBy: 'user:admin',
    });
    await setSettlementBounds(db().db, {
      orgId: org,
      body: { maxRefundShareBps: 3_000, maxRewardPerRequest: '1000' },
      actor: 'user:admin2',
    });
    expect(await getSettlementBounds(db().db, { orgId: org })).toMatchObject({
      bounds: { maxRefundShareBps: 3_000, maxRewardPerRequest: 1_000n },
      updatedBy: 'user:admin2',
    });
    const audit = await listAuditForEntity(db().db, { entityType: 'settlement_bounds', entityId: org });
    expect(audit.map((row) => ({ action: row.action, before: row.before, after: row.after }))).toEqual([
      // Without a monthly cap per user, twenty of the largest rewards a month.
      {
        action: 'settlement_bounds.set',
        before: { maxRefundShareBps: 2_500, maxRewardPerRequest: 0n, maxRewardPerUserPerMonth: 0n },
        after: { maxRefundShareBps: 3_000, maxRewardPerRequest: 1_000n, maxRewardPerUserPerMonth: 20_000n },
      },
      {
        action: 'settlement_bounds.set',
        before: null,
        after: { maxRefundShareBps: 2_500, maxRewardPerRequest: 0n, maxRewardPerUserPerMonth: 0n },
      },
    ]);
    await expect(
      setSettlementBounds(db().db, { orgId: org, body: { maxRefundShareBps: 12_000 }, actor }),
    ).rejects.toThrow(/Invalid settlement bounds: maxRefundShareBps/);
    await expect(
      setSettlementBounds(db().db, { orgId: org, body: { maxRewardPerRequest: 1.5 }, actor }),
    ).rejects.toThrow(/maxRewardPerRequest/);
    await expect(
      setSettlementBounds(db().db, { orgId: org, body: { maxRewardPerUserPerMonth: '-1' }, actor }),
    ).rejects.toThrow(/maxRewardPerUserPerMonth: must not be negative/);
    await expect(setSettlementBounds(db().db, { orgId: randomUUID(), body: {}, actor })).rejects.toThrow(NotFoundError);
    expect((await getSettlementBounds(db().db, { orgId: org })).bounds.maxRefundShareBps).toBe(3_000);
    const capped = await setSettlementBounds(db().db, {
      orgId: org,
      body: { maxRewardPerRequest: '1000', maxRewardPerUserPerMonth: '5000' },
      actor,
    });
    expect(capped.bounds).toEqual({
      maxRefundShareBps: 5_000,
      maxRewardPerRequest: 1_000n,
      maxRewardPerUserPerMonth: 5_000n,
    });
  });
});
