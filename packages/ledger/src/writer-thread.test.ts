import { ConfigError } from '@tokenwise/core';
import { executeRows, type Database } from '@tokenwise/db';
import { auditLog, usageRecords } from '@tokenwise/db/schema';
import { openTestDatabase } from '@tokenwise/db/testing';
import { eq, sql } from 'drizzle-orm';
import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { consumptionAccount, ensureAccount, legacyIssuanceAccount } from './accounts';
import { LedgerUnavailableError } from './errors';
import { checkInvariants } from './invariants';
import { createLedger } from './ledger';
import { ThreadedWriter } from './threaded-writer';
import type { LedgerOp, OpResult } from './types';
import { verifyLedger } from './verify';

const key = randomBytes(32);

describe('the batch writer on a thread of its own (real PostgreSQL)', () => {
  let database: Database & { url?: string };
  let url: string;
  beforeAll(async () => {
    database = await openTestDatabase('postgres');
    url = database.url ?? '';
  });
  afterAll(async () => {
    await database.close();
  });

  const funded = async (amount: bigint) => {
    const wallet = (
      await ensureAccount(
        database.db,
        { ownerType: 'user', ownerId: randomUUID(), currency: 'innovation', purpose: 'wallet' },
        key,
      )
    ).id;
    const sink = (await consumptionAccount(database.db, 'innovation', key)).id;
    const issuance = (await legacyIssuanceAccount(database.db, 'innovation', key)).id;
    const grant: LedgerOp = {
      type: 'transfer',
      id: `grant-${wallet}`,
      debitAccountId: issuance,
      creditAccountId: wallet,
      amount,
      code: 'grant',
    };
    return { wallet, sink, grant };
  };

  /** A request as the gateway meters it: a hold, then its charge with the usage row attached. */
  const holdOf = (wallet: string, sink: string, id: string, amount: bigint): LedgerOp => ({
    type: 'pending',
    id: `hold-${id}`,
    debitAccountId: wallet,
    creditAccountId: sink,
    amount,
    code: 'hold',
    timeoutSeconds: 60,
    userData: { requestId: id },
  });
  const chargeOf = (id: string, amount: bigint): LedgerOp => ({
    type: 'post',
    id: `charge-${id}`,
    pendingId: `hold-${id}`,
    amount,
    code: 'charge',
    attach: [
      {
        table: auditLog,
        row: { actor: 'test', action: 'thread.charge', entityType: 'request', entityId: id, before: null, after: null },
      },
    ],
  });

  it('holds exactly what the wallet has under 120 concurrent requests, charges each once, in few batches', async () => {
    const { wallet, sink, grant } = await funded(1_000n);
    const ledger = createLedger({ db: database.db, hmacKey: key, writerThread: { databaseUrl: url } });
    try {
      expect((await ledger.submit([grant]))[0]).toMatchObject({ ok: true });
      const ids = Array.from({ length: 120 }, () => randomUUID());
      const holds = await Promise.all(ids.map((id) => ledger.submit([holdOf(wallet, sink, id, 10n)])));
      const admitted = ids.filter((_, index) => holds[index]?.[0]?.ok === true);
      expect(admitted).toHaveLength(100);
      expect(holds.flat().filter((result) => !result.ok && result.code === 'insufficient_funds')).toHaveLength(20);
      const charges = await Promise.all(admitted.map((id) => ledger.submit([chargeOf(id, 7n)])));
      expect(charges.flat().every((result) => result.ok)).toBe(true);
      // A client's retry of a charge is the first answer again, and writes no second usage row.
      const again = await ledger.submit([chargeOf(admitted[0] as string, 7n)]);
      expect(again[0]).toMatchObject({ ok: true, duplicate: true });
      expect(await ledger.balance(wallet)).toMatchObject({ debitsPending: 0n, debitsPosted: 700n, available: 300n });
      const rows = await database.db
        .select({ id: auditLog.entityId })
        .from(auditLog)
        .where(eq(auditLog.action, 'thread.charge'));
      expect(new Set(rows.map((row) => row.id))).toEqual(new Set(admitted));
      expect(rows).toHaveLength(100);
      // Group commit still gathers concurrent callers: far fewer batches than submits.
      expect(ledger.stats().batches).toBeLessThan(60);
      expect(ledger.stats().ops).toBe(1 + 120 + 100 + 1);
      expect(ledger.head()?.batchSeq).toBeGreaterThan(0n);
    } finally {
      await ledger.close();
    }
    expect(await checkInvariants(database.db)).toEqual([]);
    expect((await verifyLedger(database.db, { hmacKey: key })).problems).toEqual([]);
  });

  it('keeps a hostile value in one usage row from failing its neighbours', async () => {
    const { wallet, sink, grant } = await funded(100n);
    const ledger = createLedger({ db: database.db, hmacKey: key, writerThread: { databaseUrl: url } });
    try {
      await ledger.submit([grant]);
      const usage = (id: string, promptTokens: number): LedgerOp => ({
        type: 'transfer',
        id,
        debitAccountId: wallet,
        creditAccountId: sink,
        amount: 1n,
        code: 'charge',
        attach: [
          {
            table: usageRecords,
            row: {
              requestId: id,
              orgId: randomUUID(),
              keyId: 'k',
              model: 'm',
              cluster: 'c',
              replica: 'r',
              tier: 'normal',
              promptTokens,
              completionTokens: 1,
              currency: 'innovation',
              cost: 1n,
              priceListVersion: 1,
              latencyMs: 1,
              co2eMicrograms: 0n,
              energyMicroWh: 0n,
              endUser: '\u0000\ud800',
              tags: { $bigint: 'x' },
              system: false,
              outcome: 'completed',
            },
          },
        ],
      });
      const results = await Promise.all([
        ...Array.from({ length: 10 }, (_, index) => ledger.submit([usage(`ok-${index}-${wallet}`, 1)])),
        // An integer column cannot hold 2^40: the database refuses this one op's batch.
        ledger.submit([usage(`refused-${wallet}`, 2 ** 40)]).catch((error: unknown) => error),
      ]);
      expect(
        results
          .slice(0, 10)
          .flat()
          .every((result) => (result as OpResult).ok),
      ).toBe(true);
      expect(results[10]).toMatchObject({ name: 'LedgerRefusedError' });
      const stored = await database.db
        .select({ id: usageRecords.requestId })
        .from(usageRecords)
        .where(sql`${usageRecords.requestId} like ${`%${wallet}`}`);
      expect(stored).toHaveLength(10);
      expect(await ledger.balance(wallet)).toMatchObject({ debitsPosted: 10n });
    } finally {
      await ledger.close();
    }
  });

  it('refuses what a crashed thread held as unavailable; the same ids then apply exactly once', async () => {
    const { wallet, sink, grant } = await funded(10_000n);
    const writer = new ThreadedWriter({ databaseUrl: url, hmacKey: key });
    try {
      await writer.submit([grant]);
      const ids = Array.from({ length: 200 }, () => randomUUID());
      const first = ids.map((id) => writer.submit([holdOf(wallet, sink, id, 3n)]).catch((error: unknown) => error));
      // The thread dies with these in its queue, some maybe mid-batch or committed.
      await new Promise((resolve) => setTimeout(resolve, 5));
      await writer.crashForTests();
      const outcomes = await Promise.all(first);
      const refused = outcomes.filter((outcome) => outcome instanceof LedgerUnavailableError);
      expect(refused.length).toBeGreaterThan(0);
      expect((refused[0] as Error).message).toMatch(/writer thread stopped.*Retry with the same ids/);
      // Every caller retries with its ids: a new thread answers, committed ones as duplicates.
      const retried = (await Promise.all(ids.map((id) => writer.submit([holdOf(wallet, sink, id, 3n)])))).flat();
      expect(retried.every((result) => result.ok)).toBe(true);
    } finally {
      await writer.close();
    }
    const held = await executeRows<{ count: string }>(
      database.db,
      sql`select count(*)::text as count from ledger_transfers where debit_account_id = ${wallet} and type = 'pending'`,
    );
    expect(held[0]?.count).toBe('200');
    expect(await checkInvariants(database.db)).toEqual([]);
    expect((await verifyLedger(database.db, { hmacKey: key })).problems).toEqual([]);
  });

  it('finishes every queued batch on close, then refuses new work', async () => {
    const { wallet, sink, grant } = await funded(1_000n);
    const writer = new ThreadedWriter({ databaseUrl: url, hmacKey: key, batchIntervalMs: 50 });
    await writer.submit([grant]);
    const pending = Array.from({ length: 30 }, () => writer.submit([holdOf(wallet, sink, randomUUID(), 1n)]));
    await writer.close();
    expect((await Promise.all(pending)).flat().every((result) => result.ok)).toBe(true);
    await expect(writer.submit([holdOf(wallet, sink, randomUUID(), 1n)])).rejects.toThrow(/closed/);
  });

  it('refuses a test clock with the thread: it keeps real time', () => {
    expect(() =>
      createLedger({ db: database.db, hmacKey: key, clock: () => new Date(0), writerThread: { databaseUrl: url } }),
    ).toThrow(ConfigError);
  });
});
