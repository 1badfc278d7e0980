import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  addAmounts,
  amountMax,
  amountMin,
  formatAmount,
  parseAmount,
  parseMinorUnits,
  subtractAmounts,
  sumAmounts,
} from './amount';
import { innovation } from './currency';
import { AmountOverflowError, InvalidAmountError } from './errors';

const anyAmount = fc.bigInt({ min: amountMin, max: amountMax });

describe('amounts in minor units', () => {
  it('parses decimals exactly, never through a float', () => {
    expect(parseAmount('0.1', innovation)).toBe(100_000n);
    expect(parseAmount('1.5', innovation)).toBe(1_500_000n);
    expect(parseAmount('-0.000001', innovation)).toBe(-1n);
    expect(parseAmount(' 42 ', innovation)).toBe(42_000_000n);
  });

  it('refuses more fraction digits than the currency has, saying how many it has', () => {
    expect(() => parseAmount('0.0000001', innovation)).toThrow(/6 decimals/);
  });

  it('refuses floats, exponents, signs and garbage with an error that shows the expected form', () => {
    for (const bad of ['1e3', '1.', '.5', '+1', '01', '1,5', 'NaN', '', '0x10', '1 000']) {
      expect(() => parseAmount(bad, innovation), bad).toThrow(InvalidAmountError);
    }
    expect(() => parseAmount('abc', innovation)).toThrow(/such as "12.5"/);
  });

  it('refuses a decimal that does not fit 64 bits instead of wrapping', () => {
    expect(() => parseAmount('9223372036854.775808', innovation)).toThrow(AmountOverflowError);
    expect(parseAmount('9223372036854.775807', innovation)).toBe(amountMax);
  });

  it('formats and parses back every amount, including the extremes', () => {
    fc.assert(
      fc.property(anyAmount, (amount) => {
        expect(parseAmount(formatAmount(amount, innovation), innovation)).toBe(amount);
      }),
      { numRuns: 2000 },
    );
    expect(formatAmount(1_500_000n, innovation)).toBe('1.5');
    expect(formatAmount(-1n, innovation)).toBe('-0.000001');
    expect(formatAmount(amountMin, innovation)).toBe('-9223372036854.775808');
  });

  it('adds and subtracts exactly and refuses to overflow at either end', () => {
    fc.assert(
      fc.property(anyAmount, anyAmount, (a, b) => {
        const exact = a + b;
        if (exact > amountMax || exact < amountMin) {
          expect(() => addAmounts(a, b)).toThrow(AmountOverflowError);
        } else {
          expect(addAmounts(a, b)).toBe(exact);
          expect(subtractAmounts(exact, b)).toBe(a);
        }
      }),
      { numRuns: 2000 },
    );
    expect(() => addAmounts(amountMax, 1n)).toThrow(/overflows/);
    expect(() => subtractAmounts(amountMin, 1n)).toThrow(AmountOverflowError);
    expect(() => sumAmounts([amountMax, 1n, -5n])).toThrow(AmountOverflowError);
  });

  it('parses the wire form strictly', () => {
    expect(parseMinorUnits('-9223372036854775808')).toBe(amountMin);
    expect(() => parseMinorUnits('9223372036854775808')).toThrow(AmountOverflowError);
    expect(() => parseMinorUnits('1.0')).toThrow(/integer count of minor units/);
    expect(() => parseMinorUnits('-0')).not.toThrow();
  });
});
