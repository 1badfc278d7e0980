import { parsePriceList, quoteCost } from '@tokenwise/core';
import { openTestDatabase } from '@tokenwise/db/testing';
import { usageRecords } from '@tokenwise/db/schema';
import type { Database } from '@tokenwise/db';
import { checkInvariants } from '@tokenwise/ledger';
import { eq } from 'drizzle-orm';
import OpenAI from 'openai';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startGatewayWorld, testModel, testPriceList, waitForUsageRows, type GatewayWorld } from './test-kit';

const priceList = parsePriceList(testPriceList());

async function until(condition: () => Promise<boolean>, what: string, attempts = 200): Promise<void> {
  for (let i = 0; i < attempts; i++) {
    if (await condition()) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`gave up waiting for ${what}`);
}

describe('failures and disconnects', () => {
  let database: Database;
  let world: GatewayWorld;
  beforeAll(async () => {
    database = await openTestDatabase('pglite');
    world = await startGatewayWorld(database, {
      replicas: 2,
      sim: { latency: { ttftMs: 5, tpotMs: 15 }, outputTokens: { min: 60, max: 60 } },
    });
  });
  afterEach(() => {
    for (const sim of world.sims) sim.clearFaults();
  });
  afterAll(async () => {
    await world?.close();
    await database?.close();
  });
  const client = (apiKey: string) => new OpenAI({ apiKey, baseURL: `${world.gateway.url}/v1`, maxRetries: 0 });

  it('charges a client that disconnects mid-stream for the tokens generated so far, and no more', async () => {
    const { apiKey, wallets, userId } = await world.user({ innovation: 1_000_000n });
    const controller = new AbortController();
    const stream = await client(apiKey).chat.completions.create(
      { model: testModel, messages: [{ role: 'user', content: 'long answer' }], stream: true, max_tokens: 60 },
      { signal: controller.signal },
    );
    let received = 0;
    try {
      for await (const chunk of stream) {
        if (chunk.choices[0]?.delta?.content) received++;
        if (received === 5) controller.abort();
      }
    } catch {
      // The abort ends the iteration.
    }
    await until(
      async () => (await database.db.select().from(usageRecords).where(eq(usageRecords.userId, userId))).length === 1,
      'the usage row',
    );
    const [row] = await database.db.select().from(usageRecords).where(eq(usageRecords.userId, userId));
    expect(row?.outcome).toBe('client_aborted');
    expect(row?.completionTokens).toBeGreaterThanOrEqual(5);
    expect(row?.completionTokens).toBeLessThan(60);
    const cost = quoteCost(priceList, {
      modelId: testModel,
      tier: 'normal',
      inputTokens: row?.promptTokens ?? 0,
      outputTokens: row?.completionTokens ?? 0,
    }).totals.innovation;
    expect(row?.cost).toBe(cost);
    expect(await world.ledger.balance(wallets.innovation as string)).toMatchObject({
      posted: 1_000_000n - (cost ?? 0n),
      debitsPending: 0n,
    });
  });

  it('charges nothing when the model server drops the connection mid-stream, and tells the client', async () => {
    const { apiKey, wallets } = await world.user({ innovation: 1_000_000n });
    for (const sim of world.sims) sim.setFaults({ dropConnection: { afterTokens: 3 } });
    const stream = await client(apiKey).chat.completions.create({
      model: testModel,
      messages: [{ role: 'user', content: 'x' }],
      stream: true,
    });
    const failure = await (async () => {
      for await (const _chunk of stream) {
        // drain
      }
    })().catch((error: unknown) => error);
    expect(String(failure)).toMatch(/you were not charged/);
    await until(
      async () => (await world.ledger.balance(wallets.innovation as string)).debitsPending === 0n,
      'the hold to be released',
    );
    expect((await world.ledger.balance(wallets.innovation as string)).posted).toBe(1_000_000n);
  });

  it('charges nothing for a model server 5xx and answers 502 with OpenAI error JSON', async () => {
    const { apiKey, wallets } = await world.user({ innovation: 1_000_000n });
    for (const sim of world.sims) sim.setFaults({ errorRate: 1 });
    const error = await client(apiKey)
      .chat.completions.create({ model: testModel, messages: [{ role: 'user', content: 'x' }] })
      .catch((caught: unknown) => caught);
    expect(error).toMatchObject({ status: 502, error: { type: 'server_error', code: 'upstream_error' } });
    expect(await world.ledger.balance(wallets.innovation as string)).toMatchObject({
      posted: 1_000_000n,
      debitsPending: 0n,
    });
  });

  it('passes a vLLM 400 through unchanged and charges nothing', async () => {
    const { apiKey, wallets } = await world.user({ innovation: 1_000_000n });
    const error = await client(apiKey)
      .chat.completions.create({ model: testModel, messages: [{ role: 'user', content: 'x' }], max_tokens: 60, n: 200 })
      .catch((caught: unknown) => caught);
    expect((error as { status?: number }).status).toBe(400);
    expect(await world.ledger.balance(wallets.innovation as string)).toMatchObject({
      posted: 1_000_000n,
      debitsPending: 0n,
    });
  });

  it('fails over to another replica when one is down, before the first byte', async () => {
    const { apiKey } = await world.user({ innovation: 1_000_000n });
    const down = world.sims[0];
    if (down === undefined) throw new Error('no sim');
    await down.close();
    const results = await Promise.all(
      Array.from({ length: 6 }, () =>
        client(apiKey).chat.completions.create({
          model: testModel,
          messages: [{ role: 'user', content: 'x' }],
          max_tokens: 4,
        }),
      ),
    );
    expect(results.every((result) => result.choices.length === 1)).toBe(true);
  });

  const ask = (apiKey: string, headers: Record<string, string>) =>
    new OpenAI({
      apiKey,
      baseURL: `${world.gateway.url}/v1`,
      maxRetries: 0,
      defaultHeaders: headers,
    }).chat.completions.create({ model: testModel, messages: [{ role: 'user', content: 'hello' }], max_tokens: 8 });

  it('keeps the session and experiment tags on the usage row, where evidence finds the request by them', async () => {
    const { apiKey, userId } = await world.user({ innovation: 10n ** 12n });
    await ask(apiKey, {
      'x-tokenwise-session': 'sess-2f9c.agent_1',
      'x-tokenwise-experiment': 'checkout-button:blue',
    });
    await waitForUsageRows(database, { userId });
    const [row] = await database.db.select().from(usageRecords).where(eq(usageRecords.userId, userId));
    expect(row).toMatchObject({ sessionId: 'sess-2f9c.agent_1', experimentKey: 'checkout-button', variantKey: 'blue' });
    // Untagged requests carry none.
    const other = await world.user({ innovation: 10n ** 12n });
    await ask(other.apiKey, {});
    await waitForUsageRows(database, { userId: other.userId });
    const [untagged] = await database.db.select().from(usageRecords).where(eq(usageRecords.userId, other.userId));
    expect(untagged).toMatchObject({ sessionId: null, experimentKey: null, variantKey: null });
  });

  it('refuses malformed session and experiment tags, saying what to fix, before anything is held or charged', async () => {
    const { apiKey, userId, wallets } = await world.user({ innovation: 10n ** 12n });
    const before = await world.ledger.balance(wallets.innovation as string);
    for (const [header, value, says] of [
      ['x-tokenwise-session', 'a b', /x-tokenwise-session: the session id "a b" may only hold letters, digits/],
      ['x-tokenwise-session', 'x'.repeat(129), /at most 128/],
      ['x-tokenwise-experiment', 'checkout-button', /expected <experimentKey>:<variantKey>/],
      ['x-tokenwise-experiment', 'checkout:blue:green', /exactly one ':'/],
    ] as const) {
      const refused = await ask(apiKey, { [header]: value }).catch((error: unknown) => error);
      expect(refused).toMatchObject({ status: 400, code: 'invalid_request' });
      expect((refused as Error).message).toMatch(says);
    }
    expect(await world.ledger.balance(wallets.innovation as string)).toEqual(before);
    expect(await database.db.select().from(usageRecords).where(eq(usageRecords.userId, userId))).toEqual([]);
  });
  it('leaves the ledger sound', async () => {
    expect(await checkInvariants(database.db)).toEqual([]);
  });
});
