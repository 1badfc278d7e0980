import { openTestDatabase } from '@tokenwise/db/testing';
import { executeRows, preparedNameOf, preparedTextsMax, type Database } from '@tokenwise/db';
import { sql } from 'drizzle-orm';
import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureAccount, legacyIssuanceAccount } from './accounts';
import { checkInvariants } from './invariants';
import { createLedger } from './ledger';

const key = randomBytes(32);

describe('the batch write on PostgreSQL', () => {
  let database: Database;
  beforeAll(async () => {
    // One connection, so the statements it prepared can be read back on it (pg_prepared_statements is per session).
    database = await openTestDatabase('postgres', { poolSize: 1 });
  });
  afterAll(async () => {
    await database?.close();
  });

  it('is parsed once per connection and then runs on a cached plan, with every batch applied', async () => {
    const ledger = createLedger({ db: database.db, hmacKey: key });
    try {
      const issuance = (await legacyIssuanceAccount(database.db, 'innovation', key)).id;
      const wallet = (
        await ensureAccount(
          database.db,
          { ownerType: 'user', ownerId: randomUUID(), currency: 'innovation', purpose: 'wallet' },
          key,
        )
      ).id;
      const batches = 30;
      for (let i = 0; i < batches; i++) {
        const [result] = await ledger.submit([
          {
            type: 'transfer',
            id: `grant-${wallet}-${i}`,
            debitAccountId: issuance,
            creditAccountId: wallet,
            amount: 1n,
            code: 'grant',
          },
        ]);
        expect(result?.ok).toBe(true);
      }
      expect(await ledger.balance(wallet)).toMatchObject({ posted: BigInt(batches) });
      const prepared = await executeRows<{ name: string; generic_plans: string; custom_plans: string }>(
        database.db,
        sql`select name, generic_plans::text, custom_plans::text from pg_prepared_statements where name like 'ledger_write%'`,
      );
      // One text (the batches all have the same parts), so one statement, planned at most five times
      // for custom plans and then generically: not thirty parses and thirty plans.
      // Two texts: the first batch decided on a read, the rest from the writer's memory (with the
      // guard). Each is planned at most five times for custom plans and then generically: not thirty
      // parses and thirty plans.
      expect(prepared.length).toBeGreaterThanOrEqual(1);
      expect(prepared.length).toBeLessThanOrEqual(2);
      const sum = (field: 'generic_plans' | 'custom_plans') =>
        prepared.reduce((total, statement) => total + Number(statement[field]), 0);
      expect(sum('custom_plans')).toBeLessThanOrEqual(5 * prepared.length);
      expect(sum('generic_plans')).toBeGreaterThanOrEqual(batches - 5 * prepared.length);
      expect(await checkInvariants(database.db)).toEqual([]);
    } finally {
      await ledger.close();
    }
  });
});

describe('prepared statement names', () => {
  it('name a text the same way every time, two texts apart, and stop naming new texts past the bound', () => {
    const first = preparedNameOf('probe', 'select 1');
    expect(first).toMatch(/^probe_[0-9a-z]+_[0-9a-z]+$/);
    expect(preparedNameOf('probe', 'select 1')).toBe(first);
    expect(preparedNameOf('probe', 'select 2')).not.toBe(first);
    for (let i = 0; i < preparedTextsMax; i++) preparedNameOf('probe', `select ${i + 3}`);
    expect(preparedNameOf('probe', 'select -1')).toBeUndefined();
    // A text named before the bound keeps its name.
    expect(preparedNameOf('probe', 'select 1')).toBe(first);
  });
});
