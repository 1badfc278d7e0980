import { ValidationError } from './errors';
import { isValidTimeZone } from './schemas';

/**
 * The calendar month (`YYYY-MM`) that `instant` falls in, in the org's IANA time zone: a grant at
 * 23:30 UTC on 31 January belongs to February in Tokyo. Allowance ids are derived from it, so a
 * rerun in the same month never grants twice.
 */
export function monthlyPeriod(instant: Date, timeZone: string): string {
  if (!isValidTimeZone(timeZone))
    throw new ValidationError(`Unknown time zone "${timeZone}": use an IANA name such as "Europe/Berlin".`);
  if (Number.isNaN(instant.getTime())) throw new ValidationError('monthlyPeriod needs a valid date.');
  const parts = new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit' }).formatToParts(
    instant,
  );
  const year = parts.find((part) => part.type === 'year')?.value;
  const month = parts.find((part) => part.type === 'month')?.value;
  return `${year}-${month}`;
}

export const monthlyPeriodPattern = /^\d{4}-(0[1-9]|1[0-2])$/;
