import type { Database } from '@tokenwise/db';
import { usageRecords } from '@tokenwise/db/schema';
import { checkInvariants } from '@tokenwise/ledger';
import { openTestDatabase } from '@tokenwise/db/testing';
import { eq } from 'drizzle-orm';
import { request } from 'node:http';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startGatewayWorld, testModel, waitForUsageRows, type GatewayWorld } from './test-kit';

/** Model weight 8 B x 10 per B in the test price list: what a request pays before any token. */
const fixedTerms = 80n;

const postJson = (world: GatewayWorld, apiKey: string, path: string, body: unknown, init: RequestInit = {}) =>
  fetch(`${world.gateway.url}/v1/${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json', ...(init.headers ?? {}) },
    body: JSON.stringify(body),
    signal: init.signal,
  });

async function usageRowOf(database: Database, userId: string) {
  await waitForUsageRows(database, { userId });
  const [row] = await database.db.select().from(usageRecords).where(eq(usageRecords.userId, userId));
  return row;
}

/** Resolves once the simulated vLLM runs a request: the gateway has admitted and forwarded it. */
async function modelIsWorking(world: GatewayWorld): Promise<void> {
  const started = Date.now();
  while (world.sims.every((sim) => sim.metrics().running === 0)) {
    if (Date.now() - started > 10_000) throw new Error('the request never reached the simulated vLLM');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

describe('no free path: a client that leaves pays for what was generated', () => {
  let database: Database;
  let world: GatewayWorld;
  beforeAll(async () => {
    database = await openTestDatabase('pglite');
    world = await startGatewayWorld(database, {
      sim: { latency: { ttftMs: 5, tpotMs: 20 }, outputTokens: { min: 40, max: 40 } },
      cluster: { maxConcurrencyPerReplica: 1 },
      settings: { clientWriteStallMs: 300 },
    });
  });
  afterEach(() => {
    for (const sim of world.sims) sim.clearFaults();
  });
  afterAll(async () => {
    await world?.close();
    await database?.close();
  });

  it("charges a non-stream request whose client left mid-answer for the whole answer, by vLLM's usage", async () => {
    const { apiKey, userId, wallets } = await world.user({ innovation: 1_000_000n });
    const leaving = new AbortController();
    const answer = postJson(
      world,
      apiKey,
      'chat/completions',
      { model: testModel, messages: [{ role: 'user', content: 'x' }], max_tokens: 40, ignore_eos: true },
      { signal: leaving.signal },
    );
    // Leave once the model is at work on it (admission time varies with the machine), mid-answer.
    await modelIsWorking(world);
    setTimeout(() => leaving.abort(), 100);
    await expect(answer).rejects.toThrow();
    const row = await usageRowOf(database, userId);
    expect(row).toMatchObject({ outcome: 'client_aborted', completionTokens: 40 });
    expect(row?.cost).toBeGreaterThan(fixedTerms + 80n);
    expect(await world.ledger.balance(wallets.innovation as string)).toMatchObject({
      posted: 1_000_000n - (row?.cost ?? 0n),
      debitsPending: 0n,
    });
  });

  it('charges the fixed terms, priority fee included, to a stream whose client left before its first token', async () => {
    world.sims[0]?.setFaults({ firstByteDelayMs: 600 });
    const { apiKey, userId, wallets } = await world.user({ innovation: 1_000_000n, priority: 10_000n });
    const leaving = new AbortController();
    const answer = postJson(
      world,
      apiKey,
      'chat/completions',
      { model: testModel, messages: [{ role: 'user', content: 'x' }], max_tokens: 40, stream: true },
      { signal: leaving.signal, headers: { 'x-tokenwise-priority': 'urgent' } },
    );
    setTimeout(() => leaving.abort(), 200);
    await expect(answer).rejects.toThrow();
    const row = await usageRowOf(database, userId);
    expect(row).toMatchObject({
      outcome: 'client_aborted',
      completionTokens: 0,
      cost: fixedTerms,
      feeCurrency: 'priority',
      fee: 1_000n,
    });
    expect(await world.ledger.balance(wallets.innovation as string)).toMatchObject({
      posted: 1_000_000n - fixedTerms,
      debitsPending: 0n,
    });
    expect(await world.ledger.balance(wallets.priority as string)).toMatchObject({
      posted: 10_000n - 1_000n,
      debitsPending: 0n,
    });
  });

  it('cuts a stream whose client stops reading, releases its model slot, and charges what was generated', async () => {
    world.sims[0]?.setFaults({});
    const { apiKey, userId, wallets } = await world.user({ innovation: 100_000_000n });
    const prompts = Array.from({ length: 64 }, (_, index) => `a prompt that asks for a long answer ${index}`);
    const body = JSON.stringify({ model: testModel, prompt: prompts, max_tokens: 400, ignore_eos: true, stream: true });
    const url = new URL(`${world.gateway.url}/v1/completions`);
    // A client that sends its request, reads the headers, then never reads again.
    const stalled = request({
      host: url.hostname,
      port: url.port,
      path: url.pathname,
      method: 'POST',
      headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
    });
    const closed = new Promise<void>((resolve) => stalled.on('close', () => resolve()));
    stalled.on('error', () => undefined);
    stalled.on('response', (response) => {
      response.pause();
      response.socket.pause();
    });
    stalled.end(body);
    const row = await (async () => {
      await waitForUsageRows(database, { userId }).catch(async () => waitForUsageRows(database, { userId }));
      return (await database.db.select().from(usageRecords).where(eq(usageRecords.userId, userId)))[0];
    })();
    expect(row?.outcome).toBe('client_aborted');
    expect(row?.completionTokens).toBeGreaterThan(0);
    expect(row?.completionTokens).toBeLessThan(64 * 400);
    expect(await world.ledger.balance(wallets.innovation as string)).toMatchObject({
      posted: 100_000_000n - (row?.cost ?? 0n),
      debitsPending: 0n,
    });
    stalled.destroy();
    await closed;
    // The one model slot is free again: the next request is answered.
    const next = await postJson(world, apiKey, 'chat/completions', {
      model: testModel,
      messages: [{ role: 'user', content: 'x' }],
      max_tokens: 2,
    });
    expect(next.status).toBe(200);
  }, 60_000);

  it('leaves the ledger sound', async () => {
    expect(await checkInvariants(database.db)).toEqual([]);
  });
});

describe('no free path: the deadline', () => {
  let database: Database;
  let world: GatewayWorld;
  beforeAll(async () => {
    database = await openTestDatabase('pglite');
    world = await startGatewayWorld(database, {
      sim: { latency: { ttftMs: 5, tpotMs: 40 }, outputTokens: { min: 60, max: 60 } },
      settings: { requestTimeoutMs: 1_000 },
    });
  });
  afterAll(async () => {
    await world?.close();
    await database?.close();
  });

  it("answers 504 when the model outlives the deadline, and charges the fixed terms the model's work began with", async () => {
    const { apiKey, userId, wallets } = await world.user({ innovation: 1_000_000n });
    const answer = await postJson(world, apiKey, 'chat/completions', {
      model: testModel,
      messages: [{ role: 'user', content: 'x' }],
      max_tokens: 60,
      ignore_eos: true,
    });
    expect(answer.status).toBe(504);
    expect(((await answer.json()) as { error: { code: string } }).error.code).toBe('gateway_timeout');
    const row = await usageRowOf(database, userId);
    expect(row).toMatchObject({ outcome: 'timed_out', cost: fixedTerms });
    expect(await world.ledger.balance(wallets.innovation as string)).toMatchObject({
      posted: 1_000_000n - fixedTerms,
      debitsPending: 0n,
    });
  });

  it('charges a stream cut by the deadline for the tokens it counted', async () => {
    const { apiKey, userId } = await world.user({ innovation: 1_000_000n });
    const answer = await postJson(world, apiKey, 'chat/completions', {
      model: testModel,
      messages: [{ role: 'user', content: 'x' }],
      max_tokens: 60,
      ignore_eos: true,
      stream: true,
    });
    await answer.text().catch(() => '');
    const row = await usageRowOf(database, userId);
    expect(row?.outcome).toBe('timed_out');
    expect(row?.completionTokens).toBeGreaterThan(5);
    expect(row?.completionTokens).toBeLessThan(60);
  });
});
