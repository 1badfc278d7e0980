import { openDatabase, type Database } from '@tokenwise/db';
import { openTestDatabase } from '@tokenwise/db/testing';
import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { consumptionAccount, ensureAccount, legacyIssuanceAccount } from './accounts';
import { checkInvariants } from './invariants';
import { createLedger } from './ledger';
import type { LedgerOp } from './types';

describe('two batch writers (two processes) on the same accounts, real PostgreSQL', () => {
  let first: Database;
  let second: Database;
  beforeAll(async () => {
    first = await openTestDatabase('postgres');
    second = await openDatabase({ url: first.location, poolSize: 4 });
  });
  afterAll(async () => {
    await second?.close();
    await first?.close();
  });

  it('never deadlock, never double-apply a shared id, and keep one verifiable chain', async () => {
    const key = randomBytes(32);
    const a = createLedger({ db: first.db, hmacKey: key });
    const b = createLedger({ db: second.db, hmacKey: key });
    try {
      const wallets = await Promise.all(
        Array.from(
          { length: 4 },
          async () =>
            (
              await ensureAccount(
                first.db,
                { ownerType: 'user', ownerId: randomUUID(), currency: 'innovation', purpose: 'wallet' },
                key,
              )
            ).id,
        ),
      );
      const issuance = (await legacyIssuanceAccount(first.db, 'innovation', key)).id;
      const sink = (await consumptionAccount(first.db, 'innovation', key)).id;
      await a.submit(
        wallets.map((wallet) => ({
          type: 'transfer' as const,
          id: `g-${wallet}`,
          debitAccountId: issuance,
          creditAccountId: wallet,
          amount: 1_000n,
          code: 'grant',
        })),
      );
      // Both writers get the same operations in opposite orders: the shared ids race on purpose.
      const ops: LedgerOp[] = Array.from({ length: 300 }, (_, index) => ({
        type: 'transfer',
        id: `shared-${index}`,
        debitAccountId: wallets[index % wallets.length] as string,
        creditAccountId: sink,
        amount: 3n,
        code: 'charge',
      }));
      const results = await Promise.all([
        ...ops.map((op) => a.submit([op])),
        ...[...ops].reverse().map((op) => b.submit([op])),
      ]);
      const flat = results.flat();
      expect(flat.every((result) => result.ok)).toBe(true);
      const fresh = flat.filter((result) => result.ok && !result.duplicate);
      expect(fresh).toHaveLength(300);
      for (const wallet of wallets) expect((await a.balance(wallet)).posted).toBe(1_000n - 3n * 75n);
      expect(await checkInvariants(first.db)).toEqual([]);
      expect((await a.verify()).problems).toEqual([]);
    } finally {
      await a.close();
      await b.close();
    }
  });
});
