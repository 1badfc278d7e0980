import {
  carbonPeriodBounds,
  carbonPeriodOf,
  ValidationError,
  zonedMidnight,
  type CarbonPeriodKind,
} from '@tokenwise/core';

/** How far ahead an `until` raise may reach: a year and a day (a leap year's same date). */
export const raiseUntilDaysMax = 366;
/** How long officers have to decide before the workflow denies a raise, unless configured otherwise. */
export const raiseDeadlineMsDefault = 3 * 24 * 3600 * 1000;
/** Shortest and longest configurable deadline: a minute (demos, tests) to 30 days. */
export const raiseDeadlineMsMin = 60_000;
export const raiseDeadlineMsMax = 30 * 24 * 3600 * 1000;

const isoDatePattern = /^(\d{4})-(\d{2})-(\d{2})$/;

/** The calendar date (YYYY-MM-DD) of `instant` on the wall clock of `timeZone`. */
export function isoDateIn(instant: Date, timeZone: string): string {
  // en-CA formats dates as YYYY-MM-DD.
  return new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(
    instant,
  );
}

function parseIsoDate(date: string): { year: number; month: number; day: number } {
  const match = isoDatePattern.exec(date);
  const parsed =
    match === null ? undefined : { year: Number(match[1]), month: Number(match[2]), day: Number(match[3]) };
  const real =
    parsed !== undefined &&
    new Date(Date.UTC(parsed.year, parsed.month - 1, parsed.day)).toISOString().slice(0, 10) === date;
  if (parsed === undefined || !real)
    throw new ValidationError(`until must be a date as YYYY-MM-DD, got "${date.slice(0, 40)}".`, {
      issues: ['until: not a date'],
    });
  return parsed;
}

/**
 * Checks an `until` date (in the org's time zone): a real date, not before today and at most
 * {@link raiseUntilDaysMax} days ahead. Returns it unchanged.
 */
export function checkRaiseUntil(until: string, params: { now: Date; timeZone: string }): string {
  parseIsoDate(until);
  const today = isoDateIn(params.now, params.timeZone);
  const last = isoDateIn(new Date(params.now.getTime() + raiseUntilDaysMax * 24 * 3600 * 1000), params.timeZone);
  if (until < today)
    throw new ValidationError(`until ${until} is in the past: today is ${today} in ${params.timeZone}.`, {
      issues: ['until: in the past'],
    });
  if (until > last)
    throw new ValidationError(`until ${until} is more than a year ahead: the latest is ${last}.`, {
      issues: ['until: too far ahead'],
    });
  return until;
}

/** The budget period an `until` date falls in, for caps of `kind`, in the org's time zone. */
export function periodOfDate(date: string, timeZone: string, kind: CarbonPeriodKind): string {
  const { year, month, day } = parseIsoDate(date);
  return carbonPeriodOf(zonedMidnight(year, month, day, timeZone), timeZone, kind);
}

/** When an `until` raise ends: the close of the period its last day falls in. */
export function raiseEndsAt(until: string, timeZone: string, kind: CarbonPeriodKind): Date {
  return carbonPeriodBounds(periodOfDate(until, timeZone, kind), timeZone).end;
}

/** A deadline as people say it: "3 days", "36 hours", "90 minutes". */
export function describeDuration(ms: number): string {
  const minutes = Math.max(Math.round(ms / 60_000), 1);
  if (minutes % (24 * 60) === 0) return plural(minutes / (24 * 60), 'day');
  if (minutes % 60 === 0) return plural(minutes / 60, 'hour');
  return plural(minutes, 'minute');
}

const plural = (count: number, unit: string) => `${count} ${unit}${count === 1 ? '' : 's'}`;
