import { createApiKey } from '@tokenwise/control';
import { createTeam, createUser, type Database } from '@tokenwise/db';
import { notifications, scoringConfigs, settlementBounds, settlementPolicies } from '@tokenwise/db/schema';
import type { GatewayWorld } from '@tokenwise/gateway/testing';
import { checkInvariants } from '@tokenwise/ledger';
import { definePlugin } from '@tokenwise/plugin-sdk';
import type { TestTemporal } from '@tokenwise/workflows/testing';
import { eq } from 'drizzle-orm';
import OpenAI from 'openai';
import { z } from 'zod';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { settlementWorkflowId } from './relay';
import {
  chargedRequest,
  expectedRefund,
  fund,
  settlementTrace,
  startSettlementWorld,
  type SettlementWorld,
} from './test-world';

const excellent = definePlugin({
  id: 'excellent',
  version: '1.0.0',
  configSchema: z.object({}),
  score: async () => ({ status: 'scored', score: 1, confidence: 1, evidence: {}, rationale: 'shipped' }),
});

describe('rewards come out of the org reward pool, never more than it holds', () => {
  let settlement: SettlementWorld;
  let database: Database;
  let world: GatewayWorld;
  let temporal: TestTemporal;

  beforeAll(async () => {
    settlement = await startSettlementWorld([excellent]);
    ({ database, world, temporal } = settlement);
  });
  afterAll(() => settlement?.close());

  it('pays the full reward, then what is left, then none, and settles (refund and row) every time', async () => {
    const db = database.db;
    const team = await createTeam(db, {
      actor: 'test',
      input: { orgId: world.orgId, slug: 'rewarded', name: 'Rewarded' },
    });
    const user = await createUser(db, {
      actor: 'test',
      input: { orgId: world.orgId, teamId: team.id, email: 'star@test.example', displayName: 'Star' },
    });
    await db.insert(scoringConfigs).values({
      teamId: team.id,
      version: 1,
      createdBy: 'lead',
      plugins: [{ pluginId: 'excellent', weight: 1, config: {} }],
    });
    await db.insert(settlementPolicies).values({
      teamId: team.id,
      version: 1,
      createdBy: 'lead',
      body: {
        refunds: [{ minScore: 0.5, shareBps: 5_000 }],
        reward: { minScore: 0.9, amount: 40n },
        maxRewardShareBps: 5_000,
      },
    });
    await db.insert(settlementBounds).values({
      orgId: world.orgId,
      updatedBy: 'admin',
      body: { maxRefundShareBps: 5_000, maxRewardPerRequest: 1_000n },
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
        amount: 70n,
        code: 'grant',
      },
    ]);
    const { secret } = await createApiKey(db, {
      pepper: world.keyPepper,
      orgId: world.orgId,
      userId: user.id,
      name: 'dev',
      actor: 'test',
    });
    const client = new OpenAI({ apiKey: secret, baseURL: `${world.gateway.url}/v1`, maxRetries: 0 });

    const rewards: bigint[] = [];
    // Test requests cost about 100..140 minor units: a reward of 40 is within half the cost.
    for (const expectedReward of [40n, 30n, 0n]) {
      const { requestId, cost } = await chargedRequest(database, client);
      const result = await temporal.client.workflow.execute('settleUsage', {
        taskQueue: temporal.taskQueue,
        workflowId: settlementWorkflowId(requestId),
        args: [{ requestId }],
        workflowExecutionTimeout: '60 seconds',
      });
      expect(
        result,
        JSON.stringify(result, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)),
      ).toMatchObject({ status: 'settled', refund: expectedRefund(cost), reward: expectedReward });
      const trace = await settlementTrace(database, requestId);
      expect(trace.rows).toHaveLength(1);
      expect(trace.rows[0]).toMatchObject({
        refund: expectedRefund(cost),
        reward: expectedReward,
        rewardCurrency: expectedReward > 0n ? 'priority' : null,
      });
      expect(
        trace.transfers.filter((transfer) => transfer.code === 'reward').map((transfer) => transfer.amount),
      ).toEqual(expectedReward > 0n ? [expectedReward] : []);
      if (expectedReward === 30n) expect(trace.rows[0]?.reason).toContain('reward capped at the 30 the org');
      if (expectedReward === 0n)
        expect(trace.rows[0]?.reason).toContain("no reward: the org's reward pool is empty (policy: 40)");
      rewards.push(expectedReward);
    }
    const priorityWallet = await world.ledger.ensureAccount({
      ownerType: 'user',
      ownerId: user.id,
      orgId: world.orgId,
      currency: 'priority',
      purpose: 'wallet',
    });
    expect((await world.ledger.balance(priorityWallet.id)).posted).toBe(70n);
    expect((await world.ledger.balance(pool.id)).available).toBe(0n);
    const sent = await db
      .select({ payload: notifications.payload })
      .from(notifications)
      .where(eq(notifications.userId, user.id));
    expect(sent.map((row) => (row.payload as { reward: bigint }).reward)).toEqual(rewards);
    expect(await checkInvariants(db)).toEqual([]);
  });
});
