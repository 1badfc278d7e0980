import { describe, expect, it } from 'vitest';
import { monthlyPeriod } from './period';

describe('monthly periods in the org time zone', () => {
  it('puts an instant in the month it is in for the org, not in UTC', () => {
    const lateJan31Utc = new Date('2026-01-31T23:30:00Z');
    expect(monthlyPeriod(lateJan31Utc, 'UTC')).toBe('2026-01');
    expect(monthlyPeriod(lateJan31Utc, 'Asia/Tokyo')).toBe('2026-02');
    expect(monthlyPeriod(new Date('2026-03-01T03:00:00Z'), 'America/Los_Angeles')).toBe('2026-02');
  });

  it('refuses an unknown zone with the expected form', () => {
    expect(() => monthlyPeriod(new Date(), 'Nowhere/City')).toThrow(/IANA name/);
  });
});
