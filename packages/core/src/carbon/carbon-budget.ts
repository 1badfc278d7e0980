import { ValidationError } from '../errors';
import { isValidTimeZone } from '../schemas';

export const carbonScopes = ['org', 'team', 'user'] as const;
export type CarbonScope = (typeof carbonScopes)[number];
export const carbonPeriodKinds = ['month', 'quarter'] as const;
export type CarbonPeriodKind = (typeof carbonPeriodKinds)[number];

/** Largest cap or raise: 1,000 t CO2e in grams, far below what a bigint of micrograms holds. */
export const carbonGramsMax = 1_000_000_000;

/**
 * Grams (a JSON number, at most 6 decimals) as integer micrograms, exactly: `12.000001` is
 * 12000001n. Refuses negatives, more than 6 decimals and anything above `carbonGramsMax`.
 */
export function gramsToMicrograms(grams: number, field = 'grams'): bigint {
  if (typeof grams !== 'number' || !Number.isFinite(grams) || grams < 0)
    throw new ValidationError(`${field} must be a number of grams >= 0, got ${String(grams)}.`);
  if (grams > carbonGramsMax)
    throw new ValidationError(`${field} must be at most ${carbonGramsMax} g (1,000 t CO2e), got ${grams}.`);
  // JavaScript prints a number in its shortest round-tripping decimal form, exponent below 1e-6.
  const text = String(grams);
  const decimals = text.includes('e-') ? Infinity : (text.split('.')[1] ?? '').length;
  if (decimals > 6) throw new ValidationError(`${field} may have at most 6 decimals (micrograms), got ${text}.`);
  const micrograms = Math.round(grams * 1e6);
  return BigInt(micrograms);
}

/** Integer micrograms as grams, a JSON number (exact for anything up to 9 x 10^9 g). */
export function microgramsToGrams(micrograms: bigint): number {
  const whole = micrograms / 1_000_000n;
  const rest = micrograms % 1_000_000n;
  return Number(whole) + Number(rest) / 1e6;
}

interface ZonedParts {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
}

function zonedParts(instant: Date, timeZone: string): ZonedParts {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone,
    hourCycle: 'h23',
    year: 'numeric',
    month: 'numeric',
    day: 'numeric',
    hour: 'numeric',
    minute: 'numeric',
    second: 'numeric',
  }).formatToParts(instant);
  const get = (type: string) => Number(parts.find((part) => part.type === type)?.value ?? '0');
  return {
    year: get('year'),
    month: get('month'),
    day: get('day'),
    hour: get('hour') % 24,
    minute: get('minute'),
    second: get('second'),
  };
}

function assertZone(timeZone: string): void {
  if (!isValidTimeZone(timeZone))
    throw new ValidationError(`Unknown time zone "${timeZone}": use an IANA name such as "Europe/Berlin".`);
}

/**
 * The instant at which the wall clock of `timeZone` reads 00:00 on `year-month-day`. Two passes
 * find the zone's offset at that moment (DST changes happen at night, not at midnight, in every
 * zone with one, save a few where midnight is skipped: then the first instant of that day).
 */
export function zonedMidnight(year: number, month: number, day: number, timeZone: string): Date {
  assertZone(timeZone);
  const target = Date.UTC(year, month - 1, day);
  let guess = target;
  for (let pass = 0; pass < 3; pass++) {
    const p = zonedParts(new Date(guess), timeZone);
    const wall = Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second);
    const shift = wall - target;
    if (shift === 0) break;
    guess -= shift;
  }
  return new Date(guess);
}

/**
 * The budget period `instant` falls in for an org in `timeZone`: `2026-12` for a month,
 * `2026-Q4` for a quarter. Budget account owners and funding ids are derived from it.
 */
export function carbonPeriodOf(instant: Date, timeZone: string, kind: CarbonPeriodKind): string {
  assertZone(timeZone);
  if (Number.isNaN(instant.getTime())) throw new ValidationError('carbonPeriodOf needs a valid date.');
  const { year, month } = zonedParts(instant, timeZone);
  if (kind === 'quarter') return `${year}-Q${Math.floor((month - 1) / 3) + 1}`;
  return `${year}-${String(month).padStart(2, '0')}`;
}

export const carbonPeriodPattern = /^(\d{4})-(?:(0[1-9]|1[0-2])|Q([1-4]))$/;

/** When a period starts and ends (exclusive) in the org's time zone. */
export function carbonPeriodBounds(period: string, timeZone: string): { start: Date; end: Date } {
  const match = carbonPeriodPattern.exec(period);
  if (match === null) throw new ValidationError(`A period is YYYY-MM or YYYY-Qn, got "${period.slice(0, 32)}".`);
  const year = Number(match[1]);
  const firstMonth = match[3] !== undefined ? (Number(match[3]) - 1) * 3 + 1 : Number(match[2]);
  const months = match[3] !== undefined ? 3 : 1;
  const endMonthIndex = firstMonth - 1 + months;
  return {
    start: zonedMidnight(year, firstMonth, 1, timeZone),
    end: zonedMidnight(year + Math.floor(endMonthIndex / 12), (endMonthIndex % 12) + 1, 1, timeZone),
  };
}

/** The period after `period` (same kind). */
export function nextCarbonPeriod(period: string): string {
  const match = carbonPeriodPattern.exec(period);
  if (match === null) throw new ValidationError(`A period is YYYY-MM or YYYY-Qn, got "${period.slice(0, 32)}".`);
  const year = Number(match[1]);
  if (match[3] !== undefined) {
    const quarter = Number(match[3]);
    return quarter === 4 ? `${year + 1}-Q1` : `${year}-Q${quarter + 1}`;
  }
  const month = Number(match[2]);
  return month === 12 ? `${year + 1}-01` : `${year}-${String(month + 1).padStart(2, '0')}`;
}

/** Transfer ids of carbon budgets: deterministic, so no retry or second gateway funds twice. */
export const carbonTransferId = {
  /** A budget account's funding for its period from the cap (the account is per scope and period). */
  fund: (budgetAccountId: string): string => `carbon-fund-${budgetAccountId}`,
  /** A cap change's adjustment of a period already funded. */
  capChange: (budgetAccountId: string, capVersion: number): string => `carbon-cap-${budgetAccountId}-v${capVersion}`,
  /** An approved raise's grant to the period it was decided in. */
  raise: (raiseId: string): string => `carbon-raise-${raiseId}`,
  /** An approved `until` raise's grant to a later period. */
  raiseInPeriod: (raiseId: string, period: string): string => `carbon-raise-${raiseId}-${period}`,
} as const;
