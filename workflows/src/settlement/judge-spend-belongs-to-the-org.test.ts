import { createOrg, type Database } from '@tokenwise/db';
import { apiKeys, outbox, settlements, usageRecords } from '@tokenwise/db/schema';
import { testModel, waitForUsageRows, type GatewayWorld } from '@tokenwise/gateway/testing';
import { applyJudgeBudget, checkInvariants, findAccount, judgeWalletKey } from '@tokenwise/ledger';
import { definePlugin, runPluginSafely } from '@tokenwise/plugin-sdk';
import { makeScoreInput } from '@tokenwise/plugin-sdk/testing';
import type { TestTemporal } from '@tokenwise/workflows/testing';
import { and, eq, isNull } from 'drizzle-orm';
import { z } from 'zod';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { settlementWorkflowId } from './relay';
import {
  chargedRequest,
  createScoringTeam,
  expectedRefund,
  meteredContexts,
  startSettlementWorld,
  type SettlementWorld,
} from './test-world';
import type { SettlementResult } from './types';

/** A judge as the llm-judge plugin is one: it asks a model through its metered client, then scores. */
const meteredJudge = definePlugin({
  id: 'metered-judge',
  version: '1.0.0',
  configSchema: z.object({}),
  score: async (_input, ctx) => {
    const verdict = await ctx.llm.chat({
      model: testModel,
      messages: [{ role: 'user', content: 'Rate the answer from 0 to 1.' }],
      maxTokens: 8,
    });
    return {
      status: 'scored',
      score: 1,
      confidence: 1,
      evidence: { judgeRequestId: verdict.requestId ?? null },
      rationale: 'the judge liked it',
    };
  },
});

describe("judge spend is the scored org's own", () => {
  let settlement: SettlementWorld;
  let database: Database;
  let world: GatewayWorld;
  let temporal: TestTemporal;

  beforeAll(async () => {
    settlement = await startSettlementWorld([meteredJudge], { metered: true });
    ({ database, world, temporal } = settlement);
  });
  afterAll(() => settlement?.close());

  const settle = (requestId: string): Promise<SettlementResult> =>
    temporal.client.workflow.execute('settleUsage', {
      taskQueue: temporal.taskQueue,
      workflowId: settlementWorkflowId(requestId),
      args: [{ requestId }],
    });

  it("bills each org's judging to its own judge wallet; an org with an empty one settles not_applicable with the reason, at the same time as a funded org is scored", async () => {
    const db = database.db;
    const broke = world.orgId;
    const funded = (await createOrg(db, { actor: 'test', input: { slug: 'funded-judging', name: 'Funded' } })).id;
    const budget = 1_000_000n;
    await expect(
      applyJudgeBudget(db, world.ledger, {
        orgId: funded,
        currency: 'innovation',
        amount: budget,
        actor: 'user:admin',
      }),
    ).resolves.toMatchObject({ thisMonth: { status: 'funded' } });
    const [brokeTeam, fundedTeam] = [
      await createScoringTeam(database, world, ['metered-judge']),
      await createScoringTeam(database, world, ['metered-judge'], funded),
    ];
    const [brokeRequest, fundedRequest] = await Promise.all([
      chargedRequest(database, brokeTeam.client),
      chargedRequest(database, fundedTeam.client),
    ]);

    const [brokeResult, fundedResult] = await Promise.all([
      settle(brokeRequest.requestId),
      settle(fundedRequest.requestId),
    ]);

    expect(fundedResult).toMatchObject({ status: 'settled', score: 1, refund: expectedRefund(fundedRequest.cost) });
    const fundedWallet = await findAccount(db, judgeWalletKey({ orgId: funded, currency: 'innovation' }));
    const judgeUsage = await db
      .select()
      .from(usageRecords)
      .where(and(eq(usageRecords.orgId, funded), eq(usageRecords.system, true)));
    expect(judgeUsage).toHaveLength(1);
    expect(judgeUsage[0]).toMatchObject({ userId: null, teamId: null });
    expect((await world.ledger.balance(fundedWallet?.id ?? '')).posted).toBe(budget - (judgeUsage[0]?.cost ?? 0n));
    // The judge's own calls are system usage: never queued for settlement, never settled.
    expect(
      await db
        .select()
        .from(outbox)
        .where(eq(outbox.requestId, judgeUsage[0]?.requestId ?? '')),
    ).toEqual([]);
    expect(
      await db
        .select()
        .from(settlements)
        .where(eq(settlements.requestId, judgeUsage[0]?.requestId ?? '')),
    ).toEqual([]);

    expect(brokeResult).toMatchObject({ status: 'settled', refund: 0n });
    expect(brokeResult.score).toBeUndefined();
    const [brokeRow] = await db.select().from(settlements).where(eq(settlements.requestId, brokeRequest.requestId));
    const slug = (await db.query.orgs.findFirst({ where: (orgs, { eq: equals }) => equals(orgs.id, broke) }))?.slug;
    expect(brokeRow?.reason).toContain(
      `metered-judge not applicable: judge budget of org ${slug} is exhausted; an admin can raise it with grants.setJudgeBudget`,
    );
    expect(brokeRow?.results).toEqual([
      expect.objectContaining({ pluginId: 'metered-judge', status: 'not_applicable', judgeBudgetExhausted: true }),
    ]);
    expect(
      await db
        .select()
        .from(usageRecords)
        .where(and(eq(usageRecords.orgId, broke), eq(usageRecords.system, true))),
    ).toEqual([]);

    // One judge key per org, minted for it; none of them an employee's.
    const judgeKeys = await db
      .select({ orgId: apiKeys.orgId })
      .from(apiKeys)
      .where(and(eq(apiKeys.systemOwner, 'judge'), isNull(apiKeys.userId)));
    expect(judgeKeys.map((key) => key.orgId).sort()).toEqual([broke, funded].sort());
    expect(await checkInvariants(db)).toEqual([]);
  });

  it("an employee's request is charged to the employee, never to the judge wallet, whatever it sends", async () => {
    const db = database.db;
    const org = (await createOrg(db, { actor: 'test', input: { slug: 'forgers', name: 'Forgers' } })).id;
    await applyJudgeBudget(db, world.ledger, {
      orgId: org,
      currency: 'innovation',
      amount: 500_000n,
      actor: 'user:admin',
    });
    const judgeWallet = await world.ledger.ensureAccount(judgeWalletKey({ orgId: org, currency: 'innovation' }));
    const team = await createScoringTeam(database, world, [], org);
    const { response } = await team.client.chat.completions
      .create(
        { model: testModel, messages: [{ role: 'user', content: 'hi' }], user: 'judge' },
        { headers: { 'x-tokenwise-system-owner': 'judge', 'x-tokenwise-payer': 'judge', 'x-tokenwise-org': org } },
      )
      .withResponse();
    const requestId = response.headers.get('x-request-id') ?? '';
    await waitForUsageRows(database, { requestId });
    const [usage] = await db.select().from(usageRecords).where(eq(usageRecords.requestId, requestId));
    expect(usage).toMatchObject({ userId: team.userId, system: false });
    expect((await world.ledger.balance(judgeWallet.id)).posted).toBe(500_000n);
    expect((await world.ledger.balance(team.walletId)).posted).toBe(1_000_000n - (usage?.cost ?? 0n));
  });

  it("a lead's dry run pays from the lead's own wallet, and its LLM call (which quotes the judged request) is never settled", async () => {
    const db = database.db;
    const org = (await createOrg(db, { actor: 'test', input: { slug: 'dry-runners', name: 'Dry runners' } })).id;
    await applyJudgeBudget(db, world.ledger, {
      orgId: org,
      currency: 'innovation',
      amount: 500_000n,
      actor: 'user:admin',
    });
    const judgeWallet = await world.ledger.ensureAccount(judgeWalletKey({ orgId: org, currency: 'innovation' }));
    const lead = await createScoringTeam(database, world, ['metered-judge'], org);
    const judged = await chargedRequest(database, lead.client);
    const ctx = await meteredContexts(world, database)('metered-judge', {
      kind: 'user',
      orgId: org,
      userId: lead.userId,
    });
    const outcome = await runPluginSafely(
      meteredJudge,
      makeScoreInput({ requestId: judged.requestId, config: {} }),
      ctx,
      { timeoutMs: 30_000 },
    );
    expect(outcome).toMatchObject({ status: 'scored' });
    const judgeRequestId =
      (outcome.status === 'scored' ? (outcome.evidence as { judgeRequestId: string }).judgeRequestId : '') ?? '';
    await waitForUsageRows(database, { requestId: judgeRequestId });
    const [call] = await db.select().from(usageRecords).where(eq(usageRecords.requestId, judgeRequestId));
    expect(call).toMatchObject({ userId: lead.userId, orgId: org, system: false });
    const [key] = await db
      .select({ mintedFor: apiKeys.mintedFor, userId: apiKeys.userId })
      .from(apiKeys)
      .where(eq(apiKeys.id, call?.keyId ?? ''));
    expect(key).toEqual({ mintedFor: 'plugin_dry_run', userId: lead.userId });
    expect((await world.ledger.balance(lead.walletId)).posted).toBe(1_000_000n - judged.cost - (call?.cost ?? 0n));
    expect((await world.ledger.balance(judgeWallet.id)).posted).toBe(500_000n);
    expect(await settle(judgeRequestId)).toEqual({
      status: 'skipped',
      reason: "a plugin dry run's own LLM call is never settled",
    });
    const [row] = await db.select().from(settlements).where(eq(settlements.requestId, judgeRequestId));
    expect(row).toMatchObject({ refund: 0n, score: null, results: [] });
  });
});
