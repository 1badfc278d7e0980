import type { Database, Db } from '@tokenwise/db';
import { openTestDatabase } from '@tokenwise/test/db';
import { sql } from 'drizzle-orm';
import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { consumptionAccount, ensureAccount } from './accounts';
import { LedgerUnavailableError } from './errors';
import { checkInvariants } from './invariants';
import { createLedger } from './ledger';
import type { OpResult } from './types';

/** Kills the batch's own server connection just before COMMIT: the worst moment for a writer. */
const killOwnConnection = async (db: Db) => {
  await db.execute(sql`select pg_terminate_backend(pg_backend_pid())`);
};

describe('a connection killed mid-batch (real PostgreSQL)', () => {
  let database: Database;
  beforeAll(async () => {
    database = await openTestDatabase('postgres');
  });
  afterAll(async () => {
    await database.close();
  });

  const setup = async () => {
    const wallet = (await ensureAccount(database.db, { ownerType: 'user', ownerId: randomUUID(), currency: 'innovation', purpose: 'wallet' })).id;
    const sink = (await consumptionAccount(database.db, 'innovation')).id;
    return { wallet, sink };
  };

  it('rolls the batch back, retries it once, and applies every op exactly once', async () => {
    let kills = 0;
    const ledger = createLedger({
      db: database.db,
      hmacKey: randomBytes(32),
      beforeCommit: async (db) => {
        if (kills++ === 0) await killOwnConnection(db);
      },
    });
    try {
      const { wallet, sink } = await setup();
      const results = (
        await Promise.all([
          ledger.submit([{ type: 'transfer', id: `grant-${wallet}`, debitAccountId: (await ensureAccount(database.db, { ownerType: 'system', ownerId: 'issuance', currency: 'innovation', purpose: 'issuance' })).id, creditAccountId: wallet, amount: 100n, code: 'grant' }]),
          ...Array.from({ length: 20 }, (_, index) => ledger.submit([{ type: 'pending', id: `k-${wallet}-${index}`, debitAccountId: wallet, creditAccountId: sink, amount: 10n, code: 'hold', timeoutSeconds: 60 }])),
        ])
      ).flat();
      expect(kills).toBeGreaterThanOrEqual(2);
      expect(results).toHaveLength(21);
      expect((await ledger.balance(wallet)).debitsPending).toBe(10n * BigInt(results.filter((r: OpResult) => r.ok && r.transfer.type === 'pending').length));
      expect((await ledger.balance(wallet)).available).toBeGreaterThanOrEqual(0n);
      expect(await checkInvariants(database.db)).toEqual([]);
      expect((await ledger.verify()).problems).toEqual([]);
    } finally {
      await ledger.close();
    }
  });

  it('answers every caller with an error and writes nothing when the database keeps failing', async () => {
    const ledger = createLedger({ db: database.db, hmacKey: randomBytes(32), beforeCommit: killOwnConnection });
    try {
      const { wallet, sink } = await setup();
      const calls = Array.from({ length: 10 }, (_, index) =>
        ledger.submit([{ type: 'pending', id: `never-${wallet}-${index}`, debitAccountId: wallet, creditAccountId: sink, amount: 1n, code: 'hold', timeoutSeconds: 60 }]),
      );
      const settled = await Promise.allSettled(calls);
      for (const outcome of settled) {
        expect(outcome.status).toBe('rejected');
        expect((outcome as PromiseRejectedResult).reason).toBeInstanceOf(LedgerUnavailableError);
        expect(((outcome as PromiseRejectedResult).reason as Error).message).toMatch(/retry with the same ids/);
      }
      const count = await database.db.execute(sql`select count(*)::int as n from ledger_transfers where id like ${`never-${wallet}-%`}`);
      expect((count as unknown as { rows: { n: number }[] }).rows[0]?.n).toBe(0);
      expect(await checkInvariants(database.db)).toEqual([]);
    } finally {
      await ledger.close();
    }
  });
});
