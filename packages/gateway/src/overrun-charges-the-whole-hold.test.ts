import type { Database } from '@tokenwise/db';
import { usageRecords } from '@tokenwise/db/schema';
import { checkInvariants } from '@tokenwise/ledger';
import { openTestDatabase } from '@tokenwise/db/testing';
import { eq } from 'drizzle-orm';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startGatewayWorld, testModel, waitForUsageRows, type GatewayWorld } from './test-kit';

interface StreamEvent {
  choices?: { index: number; delta?: { content?: string }; finish_reason?: string | null }[];
  usage?: { completion_tokens: number } | null;
}

function eventsOf(text: string): (StreamEvent | '[DONE]')[] {
  return text
    .split('\n\n')
    .filter((event) => event.startsWith('data: '))
    .map((event) => (event === 'data: [DONE]' ? '[DONE]' : (JSON.parse(event.slice(6)) as StreamEvent)));
}

describe('a model server that goes past the held bound', () => {
  let database: Database;
  let world: GatewayWorld;
  beforeAll(async () => {
    database = await openTestDatabase('pglite');
    world = await startGatewayWorld(database, {
      sim: { latency: { ttftMs: 2, tpotMs: 2 } },
      cluster: { maxConcurrencyPerReplica: 4 },
    });
  });
  afterEach(() => {
    for (const sim of world.sims) sim.clearFaults();
  });
  afterAll(async () => {
    await world?.close();
    await database?.close();
  });

  const post = (apiKey: string, body: unknown) =>
    fetch(`${world.gateway.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });

  it('ends a stream at the bound with finish_reason "length" and charges the whole hold', async () => {
    world.sims[0]?.setFaults({ overrunTokens: 40 });
    const { apiKey, wallets, userId } = await world.user({ innovation: 1_000_000n });
    const response = await post(apiKey, {
      model: testModel,
      messages: [{ role: 'user', content: 'tell me everything' }],
      max_tokens: 10,
      ignore_eos: true,
      stream: true,
      stream_options: { include_usage: true },
    });
    expect(response.status).toBe(200);
    const held = BigInt(response.headers.get('x-tokenwise-hold-innovation') ?? '0');
    const events = eventsOf(await response.text());
    expect(events.at(-1)).toBe('[DONE]');
    const chunks = events.filter((event): event is StreamEvent => event !== '[DONE]');
    expect(chunks.some((chunk) => chunk.choices?.[0]?.finish_reason === 'length')).toBe(true);
    const usage = chunks.find((chunk) => chunk.choices?.length === 0)?.usage;
    expect(usage?.completion_tokens).toBeLessThanOrEqual(10);
    await waitForUsageRows(database, { userId });
    const [row] = await database.db.select().from(usageRecords).where(eq(usageRecords.userId, userId));
    expect(row?.outcome).toBe('cut_at_bound');
    expect(row?.completionTokens).toBeGreaterThan(10);
    expect(row?.cost).toBe(held);
    expect(await world.ledger.balance(wallets.innovation as string)).toMatchObject({
      posted: 1_000_000n - held,
      debitsPending: 0n,
    });
  });

  it('charges the whole hold for a whole answer past the bound, counts it in /metrics, and keeps the replica in service', async () => {
    world.sims[0]?.setFaults({ overrunTokens: 40 });
    const { apiKey, wallets, userId } = await world.user({ innovation: 1_000_000n });
    // More over-runs than the circuit breaker's threshold (5): none of them is the replica's failure.
    const answers = [];
    for (let i = 0; i < 7; i++)
      answers.push(
        await post(apiKey, {
          model: testModel,
          messages: [{ role: 'user', content: 'x' }],
          max_tokens: 10,
          ignore_eos: true,
        }),
      );
    expect(answers.map((answer) => answer.status)).toEqual([200, 200, 200, 200, 200, 200, 200]);
    await waitForUsageRows(database, { userId }, 7);
    const rows = await database.db.select().from(usageRecords).where(eq(usageRecords.userId, userId));
    const charged = rows.reduce((sum, row) => sum + row.cost, 0n);
    for (const row of rows) expect(row).toMatchObject({ outcome: 'completed', completionTokens: 50 });
    expect(await world.ledger.balance(wallets.innovation as string)).toMatchObject({
      posted: 1_000_000n - charged,
      debitsPending: 0n,
    });
    const metrics = await (await fetch(`${world.gateway.url}/metrics`)).text();
    expect(metrics).toMatch(/tokenwise_gateway_overruns_total\{kind="completion"\} ([7-9]|\d\d)/);
    world.sims[0]?.clearFaults();
    const normal = await post(apiKey, { model: testModel, messages: [{ role: 'user', content: 'x' }], max_tokens: 5 });
    expect(normal.status).toBe(200);
  });

  it('meters a stream whose server reports no usage from the tokens it counted', async () => {
    world.sims[0]?.setFaults({ omitStreamUsage: true });
    const { apiKey, userId } = await world.user({ innovation: 1_000_000n });
    const response = await post(apiKey, {
      model: testModel,
      messages: [{ role: 'user', content: 'x' }],
      max_tokens: 12,
      ignore_eos: true,
      stream: true,
    });
    const contentChunks = eventsOf(await response.text()).filter(
      (event) =>
        event !== '[DONE]' &&
        typeof event.choices?.[0]?.delta?.content === 'string' &&
        event.choices[0].delta.content !== '',
    ).length;
    expect(contentChunks).toBeGreaterThan(0);
    await waitForUsageRows(database, { userId });
    const [row] = await database.db.select().from(usageRecords).where(eq(usageRecords.userId, userId));
    expect(row?.completionTokens).toBeGreaterThanOrEqual(contentChunks);
    expect(row?.cost).toBeGreaterThan(80n);
  });

  it('leaves the ledger sound', async () => {
    expect(await checkInvariants(database.db)).toEqual([]);
  });
});
