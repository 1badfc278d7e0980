import { openTestDatabase } from '@tokenwise/db/testing';
import { type Database } from '@tokenwise/db';
import { gatewayRequests, usageRecords } from '@tokenwise/db/schema';
import { chainLockKey, checkInvariants } from '@tokenwise/ledger';
import { eq, sql } from 'drizzle-orm';
import OpenAI from 'openai';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { EarlyForwarding } from './early-forwarding';
import type { Principal } from './ports';
import { startGatewayWorld, testModel, waitForUsageRows, type GatewayWorld } from './test-kit';

// Holding the ledger's chain lock from another connection stalls every hold: a real server only.
describe('a request travels upstream while its hold commits', () => {
  let database: Database;
  let world: GatewayWorld;
  let unblock: (() => void) | undefined;
  beforeAll(async () => {
    database = await openTestDatabase('postgres');
    // A long first token: the refused request below cannot finish upstream before its hold is refused.
    world = await startGatewayWorld(database, { sim: { latency: { ttftMs: 400, tpotMs: 1 } } });
  });
  afterEach(() => {
    unblock?.();
    unblock = undefined;
  });
  afterAll(async () => {
    await world?.close();
    await database?.close();
  });
  const client = (apiKey: string) => new OpenAI({ apiKey, baseURL: `${world.gateway.url}/v1`, maxRetries: 0 });
  const sim = () => world.sims[0]!.metrics();

  it('answers nothing before the hold is durable, even when the model has already finished', async () => {
    const { apiKey, wallets, userId } = await world.user({ innovation: 1_000_000n });
    // Another connection holds the chain lock in an open transaction until `unblock`.
    let locked: () => void = () => undefined;
    const lockHeld = new Promise<void>((resolve) => (locked = resolve));
    const blocking = database.db.transaction(async (tx) => {
      await tx.execute(sql`select pg_advisory_xact_lock(${chainLockKey})`);
      locked();
      await new Promise<void>((resolve) => (unblock = resolve));
    });
    await lockHeld;
    const finishedBefore = sim().requestSuccess.length + sim().requestSuccess.stop;
    let answered = false;
    const answer = client(apiKey)
      .chat.completions.create({ model: testModel, messages: [{ role: 'user', content: 'hello' }], max_tokens: 8 })
      .withResponse()
      .finally(() => {
        answered = true;
      });
    // The model server gets the request and finishes it while the ledger is stalled...
    // The simulator finished the request.
    await vi.waitUntil(() => sim().requestSuccess.length + sim().requestSuccess.stop > finishedBefore, {
      timeout: 10_000,
      interval: 10,
    });
    await new Promise((resolve) => setTimeout(resolve, 100));
    // ...but the client hears nothing, and no admission row exists yet.
    expect(answered).toBe(false);
    expect(await database.db.select().from(gatewayRequests).where(eq(gatewayRequests.userId, userId))).toHaveLength(0);
    unblock?.();
    await blocking;
    const { data, response } = await answer;
    expect(data.choices[0]?.message.content).toBeTruthy();
    const requestId = response.headers.get('x-request-id') as string;
    await waitForUsageRows(database, { requestId });
    const cost = BigInt(response.headers.get('x-tokenwise-cost-innovation') as string);
    expect(cost).toBeGreaterThan(0n);
    expect(await world.ledger.balance(wallets.innovation as string)).toMatchObject({
      posted: 1_000_000n - cost,
      debitsPending: 0n,
    });
    expect(await checkInvariants(database.db)).toEqual([]);
  });

  it('stops the upstream work of a refused hold, and later requests of that key wait for their hold', async () => {
    const { apiKey, userId } = await world.user({ innovation: 10n });
    const before = sim().requestSuccess;
    const refused = client(apiKey).chat.completions.create({
      model: testModel,
      messages: [{ role: 'user', content: 'too expensive' }],
      max_tokens: 64,
    });
    await expect(refused).rejects.toMatchObject({ status: 402 });
    // Whatever reached the model server was cut: nothing runs, nothing completed.
    // The simulator is idle.
    await vi.waitUntil(() => sim().running === 0 && sim().waiting === 0, { timeout: 10_000, interval: 10 });
    expect(sim().requestSuccess.stop + sim().requestSuccess.length).toBe(before.stop + before.length);
    const abortsAfterFirst = sim().requestSuccess.abort;
    // The key was refused: its next request is not sent before its hold, so the simulator never sees it.
    await expect(
      client(apiKey).chat.completions.create({
        model: testModel,
        messages: [{ role: 'user', content: 'again' }],
        max_tokens: 64,
      }),
    ).rejects.toMatchObject({ status: 402 });
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(sim().requestSuccess.abort).toBe(abortsAfterFirst);
    expect(sim().running + sim().waiting).toBe(0);
    expect(await database.db.select().from(usageRecords).where(eq(usageRecords.userId, userId))).toHaveLength(0);
    expect(await checkInvariants(database.db)).toEqual([]);
  });
});

describe('early forwarding memory', () => {
  const principal = (keyId: string): Principal => ({
    keyId,
    orgId: 'o',
    userId: 'u',
    teamId: null,
    systemOwner: null,
    scopes: ['inference'],
    allowedModels: null,
    rpmLimit: null,
    tpmLimit: null,
    carbonAwareRouting: true,
  });

  it('forwards early until a key is refused, then waits for its holds for 30 s', () => {
    const early = new EarlyForwarding(true);
    expect(early.allowed(principal('a'), 0)).toBe(true);
    early.refused(principal('a'), 1_000);
    expect(early.allowed(principal('a'), 2_000)).toBe(false);
    expect(early.allowed(principal('b'), 2_000)).toBe(true);
    expect(early.allowed(principal('a'), 31_001)).toBe(true);
  });

  it('never forwards early when switched off', () => {
    expect(new EarlyForwarding(false).allowed(principal('a'))).toBe(false);
  });
});
