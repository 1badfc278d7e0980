import type { Database } from '@tokenwise/db';
import { openTestDatabase } from '@tokenwise/db/testing';
import { sql } from 'drizzle-orm';
import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { consumptionAccount, ensureAccount, legacyIssuanceAccount } from './accounts';
import { LedgerUnavailableError } from './errors';
import { checkInvariants } from './invariants';
import { createLedger } from './ledger';

const key = randomBytes(32);

describe('a connection killed mid-batch (real PostgreSQL)', () => {
  let database: Database;
  beforeAll(async () => {
    database = await openTestDatabase('postgres');
  });
  afterEach(async () => {
    await database.db.execute(sql`drop trigger if exists kill_writer on ledger_batches`);
  });
  afterAll(async () => {
    await database.close();
  });

  /**
   * The server kills the writer's own connection inside its write statement, after the journal
   * rows are in and before the batch row is: the worst moment. A sequence counts the kills (it
   * is not rolled back with the dying transaction).
   */
  const killWritesInFlight = async (times: number) => {
    await database.db.execute(sql`create sequence if not exists kill_count`);
    await database.db.execute(
      sql.raw(`create or replace function kill_writer() returns trigger language plpgsql as $$
      begin
        if nextval('kill_count') <= ${times} then
          perform pg_terminate_backend(pg_backend_pid());
          perform pg_sleep(5);
        end if;
        return new;
      end $$`),
    );
    await database.db.execute(sql`drop sequence if exists kill_count`);
    await database.db.execute(sql`create sequence kill_count`);
    await database.db.execute(
      sql`create trigger kill_writer before insert on ledger_batches for each row execute function kill_writer()`,
    );
  };

  const setup = async () => {
    const wallet = (
      await ensureAccount(
        database.db,
        { ownerType: 'user', ownerId: randomUUID(), currency: 'innovation', purpose: 'wallet' },
        key,
      )
    ).id;
    const sink = (await consumptionAccount(database.db, 'innovation', key)).id;
    const issuance = (await legacyIssuanceAccount(database.db, 'innovation', key)).id;
    return { wallet, sink, issuance };
  };

  it('leaves nothing half-written, retries, and applies every op exactly once', async () => {
    const { wallet, sink, issuance } = await setup();
    const ledger = createLedger({ db: database.db, hmacKey: key });
    try {
      await killWritesInFlight(1);
      const results = (
        await Promise.all([
          ledger.submit([
            {
              type: 'transfer',
              id: `grant-${wallet}`,
              debitAccountId: issuance,
              creditAccountId: wallet,
              amount: 100n,
              code: 'grant',
            },
          ]),
          ...Array.from({ length: 20 }, (_, index) =>
            ledger.submit([
              {
                type: 'pending',
                id: `k-${wallet}-${index}`,
                debitAccountId: wallet,
                creditAccountId: sink,
                amount: 10n,
                code: 'hold',
                timeoutSeconds: 60,
              },
            ]),
          ),
        ])
      ).flat();
      const killed = await database.db.execute(sql`select last_value::int as n from kill_count`);
      expect((killed as unknown as { rows: { n: number }[] }).rows[0]?.n).toBeGreaterThanOrEqual(2);
      expect(results).toHaveLength(21);
      expect(results.every((result) => result.ok || result.code === 'insufficient_funds')).toBe(true);
      const held = results.filter((result) => result.ok && result.transfer.type === 'pending').length;
      expect((await ledger.balance(wallet)).debitsPending).toBe(10n * BigInt(held));
      expect(await checkInvariants(database.db)).toEqual([]);
      expect((await ledger.verify()).problems).toEqual([]);
    } finally {
      await ledger.close();
    }
  });

  it('answers every caller with an error and writes nothing when every write is killed', async () => {
    const { wallet, sink, issuance } = await setup();
    const ledger = createLedger({ db: database.db, hmacKey: key });
    try {
      await ledger.submit([
        {
          type: 'transfer',
          id: `fund-${wallet}`,
          debitAccountId: issuance,
          creditAccountId: wallet,
          amount: 100n,
          code: 'grant',
        },
      ]);
      const before = await database.db.execute(sql`select count(*)::int as n from ledger_transfers`);
      await killWritesInFlight(1_000);
      const calls = Array.from({ length: 10 }, (_, index) =>
        ledger.submit([
          {
            type: 'pending',
            id: `never-${wallet}-${index}`,
            debitAccountId: wallet,
            creditAccountId: sink,
            amount: 1n,
            code: 'hold',
            timeoutSeconds: 60,
          },
        ]),
      );
      for (const outcome of await Promise.allSettled(calls)) {
        expect(outcome.status).toBe('rejected');
        expect((outcome as PromiseRejectedResult).reason).toBeInstanceOf(LedgerUnavailableError);
        expect(((outcome as PromiseRejectedResult).reason as Error).message).toMatch(/retry with the same ids/);
      }
      const after = await database.db.execute(sql`select count(*)::int as n from ledger_transfers`);
      expect((after as unknown as { rows: { n: number }[] }).rows[0]?.n).toBe(
        (before as unknown as { rows: { n: number }[] }).rows[0]?.n,
      );
      await database.db.execute(sql`drop trigger if exists kill_writer on ledger_batches`);
      expect(await checkInvariants(database.db)).toEqual([]);
    } finally {
      await ledger.close();
    }
  });
});
