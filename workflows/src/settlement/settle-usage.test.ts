import { createTeam, createUser, type Database } from '@tokenwise/db';
import {
  notifications,
  outbox,
  scoringConfigs,
  settlementBounds,
  settlementPolicies,
  settlements,
} from '@tokenwise/db/schema';
import { createApiKey } from '@tokenwise/control';
import { startGatewayWorld, testModel, waitForUsageRows, type GatewayWorld } from '@tokenwise/gateway/testing';
import { checkInvariants } from '@tokenwise/ledger';
import { definePlugin } from '@tokenwise/plugin-sdk';
import { createTestContext } from '@tokenwise/plugin-sdk/testing';
import { openTestDatabase } from '@tokenwise/db/testing';
import { connectTestTemporal, type TestTemporal } from '@tokenwise/workflows/testing';
import type { Worker } from '@temporalio/worker';
import { eq } from 'drizzle-orm';
import OpenAI from 'openai';
import { z } from 'zod';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWorker } from '../worker';
import { startOutboxRelay, type OutboxRelay } from './relay';

const alwaysGood = definePlugin({
  id: 'always-good',
  version: '1.0.0',
  configSchema: z.object({}),
  score: async () => ({
    status: 'scored',
    score: 0.9,
    confidence: 1,
    evidence: { checked: true },
    rationale: 'looks useful',
  }),
});
const thrower = definePlugin({
  id: 'thrower',
  version: '1.0.0',
  configSchema: z.object({}),
  score: async () => {
    throw new Error('plugin bug');
  },
});
const hanger = definePlugin({
  id: 'hanger',
  version: '1.0.0',
  configSchema: z.object({}),
  score: () => new Promise(() => {}),
});

async function until<T>(probe: () => Promise<T | undefined>, what: string): Promise<T> {
  for (let attempt = 0; attempt < 600; attempt++) {
    const value = await probe();
    if (value !== undefined) return value;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`gave up waiting for ${what}`);
}

describe('settlement of a request through the gateway, on the Temporal dev server', () => {
  let database: Database;
  let world: GatewayWorld;
  let temporal: TestTemporal;
  let worker: Worker;
  let running: Promise<void>;
  let relay: OutboxRelay;

  beforeAll(async () => {
    [database, temporal] = await Promise.all([openTestDatabase('pglite'), connectTestTemporal()]);
    world = await startGatewayWorld(database);
    worker = await createWorker({
      connection: temporal.workerConnection,
      namespace: temporal.namespace,
      database,
      taskQueue: temporal.taskQueue,
      settlement: {
        ledger: world.ledger,
        plugins: new Map([alwaysGood, thrower, hanger].map((plugin) => [plugin.id, plugin])),
        contextFor: () => createTestContext(),
        pluginTimeoutMs: 1_000,
      },
    });
    running = worker.run();
    relay = startOutboxRelay({
      db: database.db,
      client: temporal.client,
      taskQueue: temporal.taskQueue,
      intervalMs: 100,
      log: () => {},
    });
  });
  afterAll(async () => {
    await relay?.stop();
    worker?.shutdown();
    await running;
    await world?.close();
    await temporal?.close();
    await database?.close();
  });

  it('refunds by the pinned policy once, leaves a throwing and a hanging plugin out, and notifies the user', async () => {
    const db = database.db;
    const team = await createTeam(db, {
      actor: 'test',
      input: { orgId: world.orgId, slug: 'eng', name: 'Engineering' },
    });
    const user = await createUser(db, {
      actor: 'test',
      input: { orgId: world.orgId, teamId: team.id, email: 'dev@test.example', displayName: 'Dev' },
    });
    await db.insert(scoringConfigs).values({
      teamId: team.id,
      version: 1,
      createdBy: 'lead',
      plugins: [
        { pluginId: 'always-good', weight: 1, config: {} },
        { pluginId: 'thrower', weight: 1, config: {} },
        { pluginId: 'hanger', weight: 1, config: {} },
      ],
    });
    await db.insert(settlementPolicies).values({
      teamId: team.id,
      version: 1,
      createdBy: 'lead',
      body: { refunds: [{ minScore: 0.5, shareBps: 8_000 }] },
    });
    await db
      .insert(settlementBounds)
      .values({ orgId: world.orgId, updatedBy: 'admin', body: { maxRefundShareBps: 5_000 } });
    const wallet = await world.ledger.ensureAccount({
      ownerType: 'user',
      ownerId: user.id,
      orgId: world.orgId,
      currency: 'innovation',
      purpose: 'wallet',
    });
    await world.ledger.submit([
      {
        type: 'transfer',
        id: `fund-${wallet.id}`,
        debitAccountId: (
          await world.ledger.ensureAccount({
            ownerType: 'system',
            ownerId: 'issuance',
            currency: 'innovation',
            purpose: 'issuance',
          })
        ).id,
        creditAccountId: wallet.id,
        amount: 1_000_000n,
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

    const { response } = await client.chat.completions
      .create({ model: testModel, messages: [{ role: 'user', content: 'write a function' }] })
      .withResponse();
    const requestId = response.headers.get('x-request-id') as string;
    const cost = BigInt(response.headers.get('x-tokenwise-cost-innovation') as string);
    await waitForUsageRows(database, { requestId });
    const settled = await until(
      async () => (await db.select().from(settlements).where(eq(settlements.requestId, requestId)))[0],
      'the settlement',
    );

    const refund = (cost * 5_000n) / 10_000n;
    expect(settled).toMatchObject({
      score: 0.9,
      confidence: 1,
      policyVersion: 1,
      refund,
      refundCurrency: 'innovation',
      reason: expect.stringMatching(/capped by the org at 5000 bps/),
    });
    const results = settled.results as { pluginId: string; status: string; reason?: string }[];
    expect(results.find((result) => result.pluginId === 'thrower')).toMatchObject({
      status: 'error',
      reason: expect.stringMatching(/plugin bug/),
    });
    expect(results.find((result) => result.pluginId === 'hanger')).toMatchObject({
      status: 'error',
      reason: expect.stringMatching(/timeout/),
    });
    expect((await world.ledger.balance(wallet.id)).posted).toBe(1_000_000n - cost + refund);
    const [notice] = await db.select().from(notifications).where(eq(notifications.userId, user.id));
    expect(notice?.payload).toMatchObject({ requestId, refund, score: 0.9 });

    // A duplicate outbox delivery and a second workflow for the same request move nothing.
    await db.update(outbox).set({ deliveredAt: null }).where(eq(outbox.requestId, requestId));
    await relay.runOnce();
    const again = await temporal.client.workflow.execute('settleUsage', {
      taskQueue: temporal.taskQueue,
      workflowId: `settle-again-${requestId}`,
      args: [{ requestId }],
    });
    expect(again).toMatchObject({ status: 'skipped', reason: 'already settled' });
    expect(await db.select().from(settlements).where(eq(settlements.requestId, requestId))).toHaveLength(1);
    expect((await world.ledger.balance(wallet.id)).posted).toBe(1_000_000n - cost + refund);
    expect(await checkInvariants(db)).toEqual([]);
  });
});
