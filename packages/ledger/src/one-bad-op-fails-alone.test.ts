import { fromJsonValue, storableJsonDepthMax } from '@tokenwise/core';
import { usageRecords } from '@tokenwise/db/schema';
import { describeEachBackend } from '@tokenwise/db/testing';
import { eq, sql } from 'drizzle-orm';
import fc from 'fast-check';
import { randomBytes, randomUUID } from 'node:crypto';
import { expect, it } from 'vitest';
import { LedgerRefusedError } from './errors';
import { checkInvariants } from './invariants';
import { createLedger, type Ledger } from './ledger';
import type { LedgerOp } from './types';

/** A usage row as the gateway attaches it, with a client-chosen end user and tags. */
function usageRow(requestId: string, endUser: unknown, tags: unknown): Record<string, unknown> {
  return {
    requestId,
    orgId: randomUUID(),
    userId: null,
    teamId: null,
    keyId: 'k',
    model: 'm',
    cluster: 'c',
    replica: 'r',
    tier: 'normal',
    promptTokens: 1,
    completionTokens: 1,
    currency: 'innovation',
    cost: 1n,
    priceListVersion: 1,
    latencyMs: 1,
    co2eMicrograms: 0n,
    energyMicroWh: 0n,
    endUser,
    tags,
    system: false,
    outcome: 'completed',
  };
}

describeEachBackend('one bad operation fails alone', (db) => {
  let ledger: Ledger;
  let wallet: string;
  let sink: string;

  const grant = async (amount: bigint) => {
    const hmacKey = randomBytes(32);
    ledger ??= createLedger({ db: db().db, hmacKey, batchIntervalMs: 20 });
    const issuance = (
      await ledger.ensureAccount({
        ownerType: 'system',
        ownerId: 'issuance',
        currency: 'innovation',
        purpose: 'issuance',
      })
    ).id;
    wallet = (
      await ledger.ensureAccount({
        ownerType: 'user',
        ownerId: randomUUID(),
        currency: 'innovation',
        purpose: 'wallet',
      })
    ).id;
    sink = (
      await ledger.ensureAccount({
        ownerType: 'system',
        ownerId: 'consumption',
        currency: 'innovation',
        purpose: 'consumption',
      })
    ).id;
    await ledger.submit([
      {
        type: 'transfer',
        id: `grant-${wallet}`,
        debitAccountId: issuance,
        creditAccountId: wallet,
        amount,
        code: 'grant',
      },
    ]);
  };

  const charge = (id: string, endUser: unknown, tags: unknown = {}): LedgerOp => ({
    type: 'transfer',
    id,
    debitAccountId: wallet,
    creditAccountId: sink,
    amount: 1n,
    code: 'charge',
    attach: [{ table: usageRecords, row: usageRow(id, endUser, tags) }],
  });

  it('stores NUL, lone surrogates, deep JSON and $bigint-shaped client data without failing a neighbour', async () => {
    await grant(1_000n);
    let deep: unknown = 'bottom';
    for (let level = 0; level < 200; level++) deep = { next: deep };
    const hostile: [string, unknown, unknown][] = [
      ['nul', '\u0000', {}],
      ['lone-high', '\ud800', { '\u0000key': '\udfff' }],
      ['cut-pair', '😀'.slice(0, 1), {}],
      ['bigint-shaped', 'x', { $bigint: '12' }],
      ['bigint-not-a-number', 'x', { nested: [{ $bigint: 'not a number' }] }],
      ['deep', 'x', deep],
    ];
    const neighbours = Array.from({ length: 24 }, (_, index) =>
      ledger.submit([charge(`ok-${wallet}-${index}`, `user-${index}`)]),
    );
    const bad = hostile.map(([name, endUser, tags]) => ledger.submit([charge(`bad-${name}-${wallet}`, endUser, tags)]));
    const results = (await Promise.all([...neighbours, ...bad])).flat();
    expect(results.filter((result) => !result.ok)).toEqual([]);
    const rows = await db()
      .db.select({ requestId: usageRecords.requestId, endUser: usageRecords.endUser, tags: usageRecords.tags })
      .from(usageRecords)
      .where(sql`${usageRecords.requestId} like ${`%${wallet}%`}`);
    expect(rows).toHaveLength(30);
    const byId = new Map(rows.map((row) => [row.requestId, row]));
    expect(byId.get(`bad-nul-${wallet}`)?.endUser).toBe('');
    expect(byId.get(`bad-lone-high-${wallet}`)).toMatchObject({ endUser: '\ufffd', tags: { key: '\ufffd' } });
    expect(byId.get(`bad-cut-pair-${wallet}`)?.endUser).toBe('\ufffd');
    // Client data is never read back as an amount.
    expect(byId.get(`bad-bigint-shaped-${wallet}`)?.tags).toEqual({ $$bigint: '12' });
    let stored = byId.get(`bad-deep-${wallet}`)?.tags;
    let depth = 0;
    while (typeof stored === 'object' && stored !== null) {
      stored = (stored as { next: unknown }).next;
      depth++;
    }
    expect(depth).toBe(storableJsonDepthMax);
    expect(fromJsonValue(byId.get(`bad-bigint-not-a-number-${wallet}`)?.tags)).toEqual({
      nested: [{ $$bigint: 'not a number' }],
    });
    expect((await ledger.balance(wallet)).available).toBe(1_000n - 30n);
  });

  it('splits a batch the database refuses, so only the op that carries the bad row fails, with its reason', async () => {
    await grant(1_000n);
    // A row the database refuses whatever its text: a usage row whose tier breaks nothing but whose
    // cost does not fit a bigint column is refused by PostgreSQL (22003), not by the encoder.
    const refused: LedgerOp = {
      ...charge(`refused-${wallet}`, 'x'),
      attach: [{ table: usageRecords, row: { ...usageRow(`refused-${wallet}`, 'x', {}), promptTokens: 2 ** 40 } }],
    };
    const neighbours = Array.from({ length: 24 }, (_, index) => ledger.submit([charge(`n-${wallet}-${index}`, 'ok')]));
    const failing = ledger.submit([refused]);
    const settled = await Promise.allSettled([...neighbours, failing]);
    const failed = settled.at(-1);
    expect(failed?.status).toBe('rejected');
    expect(failed?.status === 'rejected' ? failed.reason : undefined).toBeInstanceOf(LedgerRefusedError);
    expect(failed?.status === 'rejected' ? String(failed.reason) : '').toMatch(
      /refused these operations for what they carry/,
    );
    for (const outcome of settled.slice(0, -1)) {
      expect(outcome.status).toBe('fulfilled');
      if (outcome.status === 'fulfilled') expect(outcome.value.every((result) => result.ok)).toBe(true);
    }
    const [row] = await db()
      .db.select({ count: sql<number>`count(*)::int` })
      .from(usageRecords)
      .where(sql`${usageRecords.requestId} like ${`n-${wallet}-%`}`);
    expect(row?.count).toBe(24);
    expect(
      await db()
        .db.select()
        .from(usageRecords)
        .where(eq(usageRecords.requestId, `refused-${wallet}`)),
    ).toEqual([]);
    expect((await ledger.balance(wallet)).available).toBe(1_000n - 24n);
    expect(await checkInvariants(db().db)).toEqual([]);
  });

  it('property: random client strings (full Unicode, NUL, lone surrogates) never fail a neighbour', async () => {
    await grant(100_000n);
    const unit = fc.oneof(
      fc.constant('\u0000'),
      fc.integer({ min: 0xd800, max: 0xdfff }).map((code) => String.fromCharCode(code)),
      fc.string({ unit: 'grapheme' }),
      fc.string({ unit: 'binary' }),
    );
    const text = fc.array(unit, { maxLength: 8 }).map((parts) => parts.join(''));
    let round = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(text, fc.dictionary(text, text, { maxKeys: 3 })), { minLength: 1, maxLength: 6 }),
        async (clients) => {
          round++;
          const neighbour = ledger.submit([charge(`p-ok-${wallet}-${round}`, 'neighbour')]);
          const hostile = clients.map(([endUser, tags], index) =>
            ledger.submit([charge(`p-${wallet}-${round}-${index}`, endUser, tags)]),
          );
          const results = (await Promise.all([neighbour, ...hostile])).flat();
          expect(results.every((result) => result.ok)).toBe(true);
        },
      ),
      { numRuns: 40, seed: 12 },
    );
    expect(await checkInvariants(db().db)).toEqual([]);
  });
});
