import { amountMax, amountMin, canonicalJson } from '@tokenwise/core';
import fc from 'fast-check';
import { createHmac, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { transferCanonical, transferMac } from './mac';
import type { Transfer } from './types';

/** The row MAC's definition: canonicalJson of the columns in this order (what verify and the chain were built on). */
function definition(transfer: Transfer): string {
  return canonicalJson([
    transfer.seq,
    transfer.id,
    transfer.type,
    transfer.debitAccountId,
    transfer.creditAccountId,
    transfer.currency,
    transfer.amount,
    transfer.pendingId,
    transfer.expiresAt?.toISOString() ?? null,
    transfer.code,
    transfer.userData ?? null,
    transfer.batchSeq,
    transfer.createdAt.toISOString(),
  ]);
}

const text = fc.string({ unit: 'binary', maxLength: 40 });
const date = fc.date({
  min: new Date('1970-01-01T00:00:00Z'),
  max: new Date('2999-12-31T23:59:59Z'),
  noInvalidDate: true,
});
const transfer: fc.Arbitrary<Transfer> = fc.record({
  seq: fc.bigInt({ min: 1n, max: amountMax }),
  id: text,
  type: fc.constantFrom('transfer', 'pending', 'post', 'void', 'expire'),
  debitAccountId: fc.uuid(),
  creditAccountId: fc.uuid(),
  currency: text,
  amount: fc.bigInt({ min: amountMin, max: amountMax }),
  pendingId: fc.option(text, { nil: null }),
  expiresAt: fc.option(date, { nil: null }),
  code: text,
  userData: fc.option(fc.dictionary(text, fc.jsonValue({ maxDepth: 3 })), { nil: null }),
  batchSeq: fc.bigInt({ min: 1n, max: amountMax }),
  createdAt: date,
}) as fc.Arbitrary<Transfer>;

describe('row MACs', () => {
  it('the direct encoder writes exactly the canonical JSON of the columns, for any row', () => {
    fc.assert(
      fc.property(transfer, (row) => {
        expect(transferCanonical(row)).toBe(definition(row));
      }),
      { numRuns: 2_000 },
    );
  });

  it('a row MAC is the HMAC of that canonical form, so journals written before still verify', () => {
    const key = randomBytes(32);
    fc.assert(
      fc.property(transfer, (row) => {
        expect(transferMac(key, row)).toBe(createHmac('sha256', key).update(definition(row)).digest('hex'));
      }),
      { numRuns: 300 },
    );
  });

  it('refuses what the canonical form refuses: amounts outside 64 bits, values JSON cannot carry', () => {
    const base = fc.sample(transfer, { numRuns: 1, seed: 7 })[0] as Transfer;
    for (const row of [
      { ...base, amount: amountMax + 1n },
      { ...base, seq: amountMin - 1n },
      { ...base, userData: { weight: Number.NaN } },
      { ...base, userData: { at: new Map() } },
    ]) {
      expect(() => definition(row)).toThrow();
      expect(() => transferCanonical(row)).toThrow();
    }
  });
});
