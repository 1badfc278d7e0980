import { describe, expect, it } from 'vitest';
import { ServiceRate, estimateRetryAfterSeconds, retryAfterSecondsMax } from './service-rate';

describe('retry-after estimate', () => {
  it('divides the queue ahead by the recent service rate, at least 1 s and at most the cap', () => {
    expect(estimateRetryAfterSeconds(9, 10, 30_000)).toBe(1);
    expect(estimateRetryAfterSeconds(99, 10, 30_000)).toBe(10);
    expect(estimateRetryAfterSeconds(0, 1_000, 30_000)).toBe(1);
    expect(estimateRetryAfterSeconds(100_000, 1, 30_000)).toBe(retryAfterSecondsMax);
  });

  it('falls back to the longest wait when nothing completed recently', () => {
    expect(estimateRetryAfterSeconds(5, 0, 12_500)).toBe(13);
  });

  it('counts completions per second over the current and previous window', () => {
    const rate = new ServiceRate(0, 10_000);
    for (let i = 0; i < 50; i++) rate.record(i * 100);
    expect(rate.perSecond(5_000)).toBeCloseTo(10, 5);
    expect(rate.perSecond(15_000)).toBeCloseTo(50 / 15, 5);
    expect(rate.perSecond(45_000)).toBe(0);
  });
});
