import { openTestDatabase } from '@tokenwise/db/testing';
import type { Database } from '@tokenwise/db';
import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureAccount, legacyIssuanceAccount } from './accounts';
import { checkInvariants } from './invariants';
import { createLedger } from './ledger';

const key = randomBytes(32);

describe('a ledger with a batch interval', () => {
  let database: Database;
  beforeAll(async () => {
    database = await openTestDatabase('pglite');
  });
  afterAll(async () => {
    await database?.close();
  });

  async function burst(batchIntervalMs: number): Promise<{ batches: number; results: boolean[] }> {
    const ledger = createLedger({ db: database.db, hmacKey: key, batchIntervalMs });
    try {
      const issuance = (await legacyIssuanceAccount(database.db, 'innovation', key)).id;
      const wallet = (
        await ensureAccount(
          database.db,
          { ownerType: 'user', ownerId: randomUUID(), currency: 'innovation', purpose: 'wallet' },
          key,
        )
      ).id;
      const grant = (i: number) =>
        ledger.submit([
          {
            type: 'transfer',
            id: `grant-${wallet}-${i}`,
            debitAccountId: issuance,
            creditAccountId: wallet,
            amount: 1n,
            code: 'grant',
          },
        ]);
      await grant(0);
      const before = ledger.stats().batches;
      // Twenty submits, 5 ms apart: about 100 ms in all.
      const submitted: Promise<{ ok: boolean }[]>[] = [];
      for (let i = 1; i <= 20; i++) {
        submitted.push(grant(i));
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      const results = (await Promise.all(submitted)).map(([result]) => result?.ok === true);
      expect(await ledger.balance(wallet)).toMatchObject({ posted: 21n });
      return { batches: ledger.stats().batches - before, results };
    } finally {
      await ledger.close();
    }
  }

  it('gathers submits that arrive within the interval into one statement, and each caller gets its own result', async () => {
    const gathered = await burst(1_000);
    expect(gathered.results).toEqual(Array.from({ length: 20 }, () => true));
    // The first batch left at most a second ago: everything after it waits for the next one.
    expect(gathered.batches).toBeLessThanOrEqual(2);
    const eager = await burst(0);
    expect(eager.results.every(Boolean)).toBe(true);
    expect(eager.batches).toBeGreaterThan(2);
    expect(await checkInvariants(database.db)).toEqual([]);
  });
});
