import type { Database } from '@tokenwise/db';
import { usageRecords } from '@tokenwise/db/schema';
import { openTestDatabase } from '@tokenwise/db/testing';
import { eq } from 'drizzle-orm';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGatewayWorld, testModel, waitForUsageRows, type GatewayWorld } from './test-kit';

describe('priority under saturation', () => {
  let database: Database;
  let world: GatewayWorld;
  beforeAll(async () => {
    database = await openTestDatabase('pglite');
    world = await startGatewayWorld(database, {
      sim: { schedulingPolicy: 'priority', latency: { ttftMs: 5, tpotMs: 10 }, outputTokens: { min: 15, max: 15 } },
      cluster: { maxConcurrencyPerReplica: 1, priorityScheduling: true },
    });
  });
  afterAll(async () => {
    await world?.close();
    await database?.close();
  });

  it('finishes an urgent request before low ones submitted earlier, and charges its fee in priority tokens', async () => {
    const { apiKey, wallets, userId } = await world.user({ innovation: 1_000_000n, priority: 5_000n });
    const client = new OpenAI({ apiKey, baseURL: `${world.gateway.url}/v1`, maxRetries: 0 });
    const finished: string[] = [];
    const send = (name: string, tier: string) =>
      client.chat.completions
        .create(
          { model: testModel, messages: [{ role: 'user', content: name }], max_tokens: 15 },
          { headers: { 'x-tokenwise-priority': tier } },
        )
        .then(() => finished.push(name));
    const lows = [send('low-1', 'low'), send('low-2', 'low'), send('low-3', 'low')];
    await new Promise((resolve) => setTimeout(resolve, 50));
    const urgent = send('urgent', 'urgent');
    await Promise.all([...lows, urgent]);
    expect(finished.indexOf('urgent')).toBeLessThan(finished.indexOf('low-3'));
    expect(finished.indexOf('urgent')).toBeLessThanOrEqual(1);
    await waitForUsageRows(database, { userId }, 4);
    const rows = await database.db.select().from(usageRecords).where(eq(usageRecords.userId, userId));
    const urgentRow = rows.find((row) => row.tier === 'urgent');
    expect(urgentRow).toMatchObject({ feeCurrency: 'priority', fee: 1_000n });
    expect(await world.ledger.balance(wallets.priority as string)).toMatchObject({ posted: 4_000n, debitsPending: 0n });
    expect(rows.filter((row) => row.tier === 'low').every((row) => row.fee === null)).toBe(true);
  });

  it('refuses an unknown tier with a message listing the tiers', async () => {
    const { apiKey } = await world.user({ innovation: 1_000n });
    const client = new OpenAI({ apiKey, baseURL: `${world.gateway.url}/v1`, maxRetries: 0 });
    const error = await client.chat.completions
      .create(
        { model: testModel, messages: [{ role: 'user', content: 'x' }] },
        { headers: { 'x-tokenwise-priority': 'asap' } },
      )
      .catch((caught: unknown) => caught);
    expect(error).toMatchObject({ status: 400 });
    expect(String(error)).toMatch(/low, normal, high, urgent/);
  });
});
