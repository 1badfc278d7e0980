import { describe, expect, it } from 'vitest';
import {
  carbonPeriodBounds,
  carbonPeriodOf,
  gramsToMicrograms,
  microgramsToGrams,
  nextCarbonPeriod,
} from './carbon-budget';

describe('grams as micrograms', () => {
  it('converts exactly up to 6 decimals and back', () => {
    expect(gramsToMicrograms(12.000001)).toBe(12_000_001n);
    expect(gramsToMicrograms(0.1)).toBe(100_000n);
    expect(gramsToMicrograms(0)).toBe(0n);
    expect(gramsToMicrograms(999_999.999999)).toBe(999_999_999_999n);
    expect(microgramsToGrams(12_000_001n)).toBe(12.000001);
    expect(microgramsToGrams(100_000n)).toBe(0.1);
  });

  it('refuses more than 6 decimals, negatives, NaN and absurd amounts, naming the field', () => {
    expect(() => gramsToMicrograms(0.0000001, 'hardGrams')).toThrow(/hardGrams may have at most 6 decimals/);
    expect(() => gramsToMicrograms(1.1234567)).toThrow(/at most 6 decimals/);
    expect(() => gramsToMicrograms(-1)).toThrow(/>= 0/);
    expect(() => gramsToMicrograms(Number.NaN)).toThrow(/>= 0/);
    expect(() => gramsToMicrograms(2e9)).toThrow(/at most/);
  });
});

describe('carbon periods in the org time zone', () => {
  it('puts an instant in the month and quarter it is in for the org', () => {
    const instant = new Date('2026-12-31T23:30:00Z');
    expect(carbonPeriodOf(instant, 'UTC', 'month')).toBe('2026-12');
    expect(carbonPeriodOf(instant, 'Asia/Tokyo', 'month')).toBe('2027-01');
    expect(carbonPeriodOf(instant, 'UTC', 'quarter')).toBe('2026-Q4');
    expect(carbonPeriodOf(instant, 'Asia/Tokyo', 'quarter')).toBe('2027-Q1');
    expect(carbonPeriodOf(new Date('2026-04-01T03:00:00Z'), 'America/Los_Angeles', 'quarter')).toBe('2026-Q1');
  });

  it('starts and ends a period at local midnight, across DST', () => {
    expect(carbonPeriodBounds('2026-12', 'UTC')).toEqual({
      start: new Date('2026-12-01T00:00:00Z'),
      end: new Date('2027-01-01T00:00:00Z'),
    });
    // Berlin is UTC+1 in winter, UTC+2 in summer: March starts in winter time, April in summer time.
    expect(carbonPeriodBounds('2026-03', 'Europe/Berlin')).toEqual({
      start: new Date('2026-02-28T23:00:00Z'),
      end: new Date('2026-03-31T22:00:00Z'),
    });
    expect(carbonPeriodBounds('2026-Q4', 'America/New_York')).toEqual({
      start: new Date('2026-10-01T04:00:00Z'),
      end: new Date('2027-01-01T05:00:00Z'),
    });
    expect(nextCarbonPeriod('2026-12')).toBe('2027-01');
    expect(nextCarbonPeriod('2026-Q4')).toBe('2027-Q1');
    expect(() => carbonPeriodBounds('2026-13', 'UTC')).toThrow(/YYYY-MM or YYYY-Qn/);
  });
});
