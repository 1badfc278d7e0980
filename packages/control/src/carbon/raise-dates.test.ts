import { describe, expect, it } from 'vitest';
import { checkRaiseUntil, describeDuration, raiseEndsAt } from './raise-dates';

describe('raise dates in the org’s time zone', () => {
  // 23:30 UTC on 31 Dec is already 1 Jan in Berlin.
  const now = new Date('2026-12-31T23:30:00Z');

  it('takes until from today in the org’s zone to a year ahead, and names what is wrong otherwise', () => {
    expect(checkRaiseUntil('2027-01-01', { now, timeZone: 'Europe/Berlin' })).toBe('2027-01-01');
    expect(() => checkRaiseUntil('2026-12-31', { now, timeZone: 'Europe/Berlin' })).toThrow(
      /in the past: today is 2027-01-01 in Europe\/Berlin/,
    );
    expect(checkRaiseUntil('2026-12-31', { now, timeZone: 'UTC' })).toBe('2026-12-31');
    expect(checkRaiseUntil('2028-01-01', { now, timeZone: 'Europe/Berlin' })).toBe('2028-01-01');
    expect(() => checkRaiseUntil('2028-01-03', { now, timeZone: 'Europe/Berlin' })).toThrow(/more than a year ahead/);
    expect(() => checkRaiseUntil('2027-02-29', { now, timeZone: 'UTC' })).toThrow(/YYYY-MM-DD/);
  });

  it('ends an until raise at the close of the period its last day falls in', () => {
    expect(raiseEndsAt('2027-02-10', 'Europe/Berlin', 'month').toISOString()).toBe('2027-02-28T23:00:00.000Z');
    expect(raiseEndsAt('2027-02-10', 'Europe/Berlin', 'quarter').toISOString()).toBe('2027-03-31T22:00:00.000Z');
    expect(raiseEndsAt('2027-12-31', 'UTC', 'month').toISOString()).toBe('2028-01-01T00:00:00.000Z');
  });

  it('says a deadline as people do', () => {
    expect(describeDuration(3 * 24 * 3600 * 1000)).toBe('3 days');
    expect(describeDuration(24 * 3600 * 1000)).toBe('1 day');
    expect(describeDuration(36 * 3600 * 1000)).toBe('36 hours');
    expect(describeDuration(90 * 60 * 1000)).toBe('90 minutes');
  });
});
