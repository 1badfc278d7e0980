import type { Database } from '@tokenwise/db';
import { outbox, settlements, usageRecords } from '@tokenwise/db/schema';
import { createApiKey } from '@tokenwise/control';
import type { GatewayWorld } from '@tokenwise/gateway/testing';
import { checkInvariants, judgeWalletKey } from '@tokenwise/ledger';
import { definePlugin } from '@tokenwise/plugin-sdk';
import type { TestTemporal } from '@tokenwise/workflows/testing';
import { eq } from 'drizzle-orm';
import OpenAI from 'openai';
import { z } from 'zod';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { settlementWorkflowId } from './relay';
import {
  chargedRequest,
  fund,
  settlementTrace,
  walletFunds,
  startSettlementWorld,
  type SettlementWorld,
} from './test-world';

describe('usage of a system key (the judge)', () => {
  let settlement: SettlementWorld;
  let database: Database;
  let world: GatewayWorld;
  let temporal: TestTemporal;
  const calls = { count: 0 };
  const alwaysGood = definePlugin({
    id: 'always-good',
    version: '1.0.0',
    configSchema: z.object({}),
    score: async () => {
      calls.count++;
      return { status: 'scored', score: 1, confidence: 1, evidence: {}, rationale: 'would refund if asked' };
    },
  });

  beforeAll(async () => {
    settlement = await startSettlementWorld([alwaysGood]);
    ({ database, world, temporal } = settlement);
  });
  afterAll(() => settlement?.close());

  it('writes no outbox row, and a settlement started by hand is skipped with the reason and moves nothing', async () => {
    const db = database.db;
    const wallet = await world.ledger.ensureAccount(judgeWalletKey({ orgId: world.orgId, currency: 'innovation' }));
    await fund(world.ledger, database, wallet.id);
    const { secret } = await createApiKey(db, {
      pepper: world.keyPepper,
      orgId: world.orgId,
      userId: null,
      systemOwner: 'judge',
      name: 'judge',
      actor: 'test',
    });
    const { requestId, cost } = await chargedRequest(
      database,
      new OpenAI({ apiKey: secret, baseURL: `${world.gateway.url}/v1`, maxRetries: 0 }),
    );

    const [usage] = await db.select().from(usageRecords).where(eq(usageRecords.requestId, requestId));
    expect(usage).toMatchObject({ system: true, userId: null, cost });
    expect(await db.select().from(outbox).where(eq(outbox.requestId, requestId))).toEqual([]);

    const result = await temporal.client.workflow.execute('settleUsage', {
      taskQueue: temporal.taskQueue,
      workflowId: settlementWorkflowId(requestId),
      args: [{ requestId }],
    });
    expect(result).toEqual({ status: 'skipped', reason: 'system usage (judge calls) is never settled' });
    expect(calls.count).toBe(0);
    const trace = await settlementTrace(database, requestId);
    expect(trace.rows).toEqual([]);
    expect(trace.transfers).toEqual([]);
    expect(await db.select().from(settlements)).toEqual([]);
    expect((await world.ledger.balance(wallet.id)).posted).toBe(walletFunds - cost);
    expect(await checkInvariants(db)).toEqual([]);
  });
});
