import { monthlyPeriod } from '@tokenwise/core';
import { createTeam, createUser, type Database } from '@tokenwise/db';
import {
  ledgerTransfers,
  notifications,
  scoringConfigs,
  settlementBounds,
  settlementPolicies,
  settlements,
} from '@tokenwise/db/schema';
import { createApiKey } from '@tokenwise/control';
import { startGatewayWorld, type GatewayWorld } from '@tokenwise/gateway/testing';
import { checkInvariants } from '@tokenwise/ledger';
import { definePlugin } from '@tokenwise/plugin-sdk';
import { describeEachBackend } from '@tokenwise/db/testing';
import { and, eq, inArray } from 'drizzle-orm';
import OpenAI from 'openai';
import { z } from 'zod';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createSettlementActivities } from './activities';
import { chargedRequest, fund, settlementDepsFor } from './test-world';

const excellent = definePlugin({
  id: 'excellent',
  version: '1.0.0',
  configSchema: z.object({}),
  score: async () => ({ status: 'scored', score: 1, confidence: 1, evidence: {}, rationale: 'shipped' }),
});

/** Each excellent request asks for this reward; test requests cost about 100..140 minor units, half of which is refunded. */
const rewardPerRequest = 30n;
/** The org's cap per user and month: three full rewards and a part of a fourth. */
const monthlyCap = 100n;
const settlementsAtOnce = 20;

describeEachBackend('the monthly reward cap per user holds when many settlements of one user run at once', (db) => {
  let database: Database;
  let world: GatewayWorld;
  let client: OpenAI;
  let userId: string;

  beforeAll(async () => {
    database = db();
    world = await startGatewayWorld(database);
    const team = await createTeam(database.db, {
      actor: 'test',
      input: { orgId: world.orgId, slug: 'farmers', name: 'Farmers' },
    });
    const user = await createUser(database.db, {
      actor: 'test',
      input: { orgId: world.orgId, teamId: team.id, email: 'farmer@test.example', displayName: 'Farmer' },
    });
    userId = user.id;
    await database.db.insert(scoringConfigs).values({
      teamId: team.id,
      version: 1,
      createdBy: 'lead',
      plugins: [{ pluginId: 'excellent', weight: 1, config: {} }],
    });
    await database.db.insert(settlementPolicies).values({
      teamId: team.id,
      version: 1,
      createdBy: 'lead',
      body: {
        refunds: [{ minScore: 0.5, shareBps: 5_000 }],
        reward: { minScore: 0.9, amount: rewardPerRequest },
        maxRewardShareBps: 5_000,
      },
    });
    await database.db.insert(settlementBounds).values({
      orgId: world.orgId,
      updatedBy: 'admin',
      body: { maxRefundShareBps: 5_000, maxRewardPerRequest: 1_000n, maxRewardPerUserPerMonth: monthlyCap },
    });
    const wallet = await world.ledger.ensureAccount({
      ownerType: 'user',
      ownerId: user.id,
      orgId: world.orgId,
      currency: 'innovation',
      purpose: 'wallet',
    });
    await fund(world.ledger, database, wallet.id);
    const pool = await world.ledger.ensureAccount({
      ownerType: 'org',
      ownerId: world.orgId,
      orgId: world.orgId,
      currency: 'priority',
      purpose: 'reward_pool',
    });
    await world.ledger.submit([
      {
        type: 'transfer',
        id: `fund-pool-${pool.id}`,
        debitAccountId: (
          await world.ledger.ensureAccount({
            ownerType: 'system',
            ownerId: 'issuance',
            currency: 'priority',
            purpose: 'issuance',
          })
        ).id,
        creditAccountId: pool.id,
        amount: 1_000_000n,
        code: 'grant',
      },
    ]);
    const { secret } = await createApiKey(database.db, {
      pepper: world.keyPepper,
      orgId: world.orgId,
      userId: user.id,
      name: 'dev',
      actor: 'test',
    });
    client = new OpenAI({ apiKey: secret, baseURL: `${world.gateway.url}/v1`, maxRetries: 0 });
  });
  afterAll(() => world?.close());

  /** Settles requests the way a worker does (applySettlement with an excellent score), all at once, on separate activity instances. */
  function settleAll(requestIds: string[]) {
    const workers = Array.from({ length: 4 }, () =>
      createSettlementActivities({ db: database.db, ...settlementDepsFor(world.ledger, [excellent]) }),
    );
    const outcomes = [
      { pluginId: 'excellent', weight: 1, status: 'scored' as const, score: 1, confidence: 1, attempts: 1 },
    ];
    return Promise.all(
      requestIds.map((requestId, index) => {
        const worker = workers[index % workers.length];
        if (worker === undefined) throw new Error('no settlement worker');
        return worker.applySettlement({
          requestId,
          outcomes,
          score: 1,
          confidence: 1,
          workflowId: `settle-${requestId}`,
        });
      }),
    );
  }

  async function priorityRewarded(): Promise<bigint> {
    const wallet = await world.ledger.ensureAccount({
      ownerType: 'user',
      ownerId: userId,
      orgId: world.orgId,
      currency: 'priority',
      purpose: 'wallet',
    });
    return (await world.ledger.balance(wallet.id)).posted;
  }

  it('pays exactly the cap in total across 20 concurrent settlements, says why the others were cut, and a retry pays nothing more', async () => {
    const requests = await Promise.all(
      Array.from({ length: settlementsAtOnce }, () => chargedRequest(database, client)),
    );
    const requestIds = requests.map((request) => request.requestId);
    const results = await settleAll(requestIds);
    expect(results.every((result) => result.status === 'settled')).toBe(true);
    const rows = await database.db.select().from(settlements).where(inArray(settlements.requestId, requestIds));
    expect(rows).toHaveLength(settlementsAtOnce);
    const total = rows.reduce((sum, row) => sum + row.reward, 0n);
    expect(total).toBe(monthlyCap);
    expect(rows.every((row) => row.reward <= rewardPerRequest)).toBe(true);
    // Every settlement still refunded half its cost; rewards were cut, never refunds.
    for (const row of rows)
      expect(row.refund).toBe((requests.find((request) => request.requestId === row.requestId)?.cost ?? 0n) / 2n);
    const cut = rows.filter((row) => row.reward < rewardPerRequest);
    expect(cut.length).toBeGreaterThanOrEqual(settlementsAtOnce - 4);
    const period = monthlyPeriod(new Date(), 'UTC');
    for (const row of cut)
      expect(row.reason).toMatch(
        new RegExp(
          `reward capped at \\d+ by the org's maxRewardPerUserPerMonth ${monthlyCap} priority \\(\\d+ already rewarded to this user in ${period}|no reward: the user's monthly reward cap was taken by other settlements`,
        ),
      );
    const sent = await database.db
      .select({ payload: notifications.payload })
      .from(notifications)
      .where(eq(notifications.userId, userId));
    expect(sent.reduce((sum, row) => sum + (row.payload as { reward: bigint }).reward, 0n)).toBe(monthlyCap);
    expect(await priorityRewarded()).toBe(monthlyCap);

    // Retries and duplicate deliveries of every settlement return what was recorded and move nothing.
    const again = await settleAll(requestIds);
    expect(again.reduce((sum, result) => sum + (result.reward ?? 0n), 0n)).toBe(monthlyCap);
    expect(await priorityRewarded()).toBe(monthlyCap);
    const rewardTransfers = await database.db
      .select({ amount: ledgerTransfers.amount })
      .from(ledgerTransfers)
      .where(
        and(
          eq(ledgerTransfers.code, 'reward'),
          inArray(
            ledgerTransfers.id,
            requestIds.map((id) => `reward-${id}`),
          ),
        ),
      );
    expect(rewardTransfers.reduce((sum, transfer) => sum + transfer.amount, 0n)).toBe(monthlyCap);
    expect(await checkInvariants(database.db)).toEqual([]);
  });

  it('applies a lowered cap at once and a raised one from the next settlement, counting what was already paid', async () => {
    await database.db
      .update(settlementBounds)
      .set({ body: { maxRefundShareBps: 5_000, maxRewardPerRequest: 1_000n, maxRewardPerUserPerMonth: 60n } })
      .where(eq(settlementBounds.orgId, world.orgId));
    const lowered = await chargedRequest(database, client);
    const [none] = await settleAll([lowered.requestId]);
    expect(none).toMatchObject({ status: 'settled', reward: 0n });
    expect(none?.reason).toContain(
      `reward capped at 0 by the org's maxRewardPerUserPerMonth 60 priority (${monthlyCap} already rewarded`,
    );

    await database.db
      .update(settlementBounds)
      .set({
        body: { maxRefundShareBps: 5_000, maxRewardPerRequest: 1_000n, maxRewardPerUserPerMonth: monthlyCap + 45n },
      })
      .where(eq(settlementBounds.orgId, world.orgId));
    const raised = await Promise.all(Array.from({ length: 3 }, () => chargedRequest(database, client)));
    const paid = await settleAll(raised.map((request) => request.requestId));
    expect(paid.reduce((sum, result) => sum + (result.reward ?? 0n), 0n)).toBe(45n);
    expect(await priorityRewarded()).toBe(monthlyCap + 45n);
    expect(await checkInvariants(database.db)).toEqual([]);
  });
});
