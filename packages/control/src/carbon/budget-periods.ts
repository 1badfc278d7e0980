import { carbonPeriodBounds, carbonPeriodOf, type CarbonPeriodKind } from '@tokenwise/core';

export interface BudgetPeriod {
  /** `2026-12` or `2026-Q4`. */
  period: string;
  start: Date;
  /** Exclusive: when the budget resets. */
  end: Date;
  /** First day of the period, `YYYY-MM-DD` (org time zone). */
  startDate: string;
}

/**
 * The budget period an instant falls in, per time zone and kind, cached until the period ends:
 * the hot path formats no date after the first request of a period.
 */
export function createBudgetPeriods(): (now: Date, timeZone: string, kind: CarbonPeriodKind) => BudgetPeriod {
  const cache = new Map<string, BudgetPeriod>();
  return (now, timeZone, kind) => {
    const key = `${timeZone}|${kind}`;
    const hit = cache.get(key);
    const time = now.getTime();
    if (hit !== undefined && time >= hit.start.getTime() && time < hit.end.getTime()) return hit;
    const period = carbonPeriodOf(now, timeZone, kind);
    const { start, end } = carbonPeriodBounds(period, timeZone);
    const startDate = periodStartDate(period);
    const entry = { period, start, end, startDate };
    if (cache.size > 1000) cache.clear();
    cache.set(key, entry);
    return entry;
  };
}

/** `2026-12` -> `2026-12-01`, `2026-Q4` -> `2026-10-01`. */
export function periodStartDate(period: string): string {
  const [year, part = ''] = period.split('-');
  const month = part.startsWith('Q') ? (Number(part.slice(1)) - 1) * 3 + 1 : Number(part);
  return `${year}-${String(month).padStart(2, '0')}-01`;
}
