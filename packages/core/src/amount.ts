import type { Currency } from './currency';
import { AmountOverflowError, InvalidAmountError } from './errors';

/**
 * An amount is a bigint count of a currency's minor unit. Its range is PostgreSQL's `bigint`
 * (signed 64-bit), so every amount fits every column and crosses every boundary unchanged.
 */
export type Amount = bigint;

export const amountMax: Amount = 2n ** 63n - 1n;
export const amountMin: Amount = -(2n ** 63n);

const minorUnitsPattern = /^-?(0|[1-9][0-9]*)$/;
const decimalPattern = /^(-)?(0|[1-9][0-9]*)(?:\.([0-9]+))?$/;
/** Longer strings cannot be in range; refusing them early bounds the work on hostile input. */
const amountTextLengthMax = 40;

export function isAmount(value: unknown): value is Amount {
  return typeof value === 'bigint' && value >= amountMin && value <= amountMax;
}

/** Throws unless `value` is a bigint inside the 64-bit range. */
export function assertAmount(value: unknown, what = 'amount'): asserts value is Amount {
  if (typeof value !== 'bigint') {
    throw new InvalidAmountError(`${what} must be a bigint count of minor units, got ${typeof value}.`);
  }
  if (value > amountMax || value < amountMin) {
    throw new AmountOverflowError(`${what} ${value} is outside the 64-bit range ${amountMin}..${amountMax}.`);
  }
}

/** Throws unless `value` is an amount >= 0. */
export function assertNonNegativeAmount(value: unknown, what = 'amount'): asserts value is Amount {
  assertAmount(value, what);
  if (value < 0n) throw new InvalidAmountError(`${what} must not be negative, got ${value}.`);
}

function checked(result: bigint, operation: string): Amount {
  if (result > amountMax || result < amountMin) {
    throw new AmountOverflowError(`${operation} overflows the 64-bit amount range.`);
  }
  return result;
}

export function addAmounts(a: Amount, b: Amount): Amount {
  assertAmount(a);
  assertAmount(b);
  return checked(a + b, `${a} + ${b}`);
}

export function subtractAmounts(a: Amount, b: Amount): Amount {
  assertAmount(a);
  assertAmount(b);
  return checked(a - b, `${a} - ${b}`);
}

/** Sums amounts, refusing overflow at any step (a later negative term does not excuse it). */
export function sumAmounts(amounts: Iterable<Amount>): Amount {
  let total = 0n;
  for (const amount of amounts) total = addAmounts(total, amount);
  return total;
}

/** Parses an integer count of minor units, the wire form of an amount ("-12", "0", "900"). */
export function parseMinorUnits(text: string, what = 'amount'): Amount {
  if (typeof text !== 'string' || text.length > amountTextLengthMax || !minorUnitsPattern.test(text)) {
    throw new InvalidAmountError(
      `${what} must be an integer count of minor units such as "1500000" (no decimals, exponent or spaces), got ${JSON.stringify(text)}.`,
    );
  }
  const value = BigInt(text);
  assertAmount(value, what);
  return value;
}

/**
 * Parses a human decimal ("1.5") into minor units of `currency`. Never goes through a float:
 * "0.1" is exactly 100000 minor units at 6 decimals. More fraction digits than the currency has
 * is an error, not a rounding.
 */
export function parseAmount(text: string, currency: Currency): Amount {
  const trimmed = typeof text === 'string' ? text.trim() : text;
  const match =
    typeof trimmed === 'string' && trimmed.length <= amountTextLengthMax ? decimalPattern.exec(trimmed) : null;
  if (match === null) {
    throw new InvalidAmountError(
      `Amount must be a decimal number of ${currency.code} tokens such as "12.5", got ${JSON.stringify(text)}.`,
    );
  }
  const [, sign, whole = '0', fraction = ''] = match;
  if (fraction.length > currency.decimals) {
    throw new InvalidAmountError(
      `${currency.code} has ${currency.decimals} decimals; "${text}" has ${fraction.length}. Round it first.`,
    );
  }
  const scale = 10n ** BigInt(currency.decimals);
  const magnitude = BigInt(whole) * scale + BigInt(fraction.padEnd(currency.decimals, '0') || '0');
  const value = sign === '-' ? -magnitude : magnitude;
  if (value > amountMax || value < amountMin) {
    throw new AmountOverflowError(`Amount "${text}" ${currency.code} is outside the 64-bit range of minor units.`);
  }
  return value;
}

/** Formats minor units as a decimal of whole tokens, trailing zeros dropped ("1.5", "2", "-0.000001"). */
export function formatAmount(amount: Amount, currency: Currency): string {
  assertAmount(amount);
  const negative = amount < 0n;
  const magnitude = negative ? -amount : amount;
  const scale = 10n ** BigInt(currency.decimals);
  const whole = magnitude / scale;
  const fraction = (magnitude % scale).toString().padStart(currency.decimals, '0').replace(/0+$/, '');
  return `${negative ? '-' : ''}${whole}${fraction === '' ? '' : `.${fraction}`}`;
}
