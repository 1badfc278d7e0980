import { z } from 'zod';
import { amountMax, amountMin, parseMinorUnits } from './amount';
import { currencyCodePattern } from './currency';

/** An amount in minor units from any boundary: a bigint, or its decimal string. Never a float. */
export const amountSchema = z.union([
  z.bigint().min(amountMin).max(amountMax),
  z
    .string()
    .max(40)
    .regex(/^-?(0|[1-9][0-9]*)$/, 'must be an integer count of minor units, e.g. "1500000"')
    .transform((text) => parseMinorUnits(text)),
]);

/** A strictly positive amount, as transfers need. */
export const positiveAmountSchema = amountSchema.refine((value) => value > 0n, 'must be greater than zero');

export const currencyCodeSchema = z
  .string()
  .regex(currencyCodePattern, 'must be a lowercase currency code such as "innovation"');

/** True when the runtime knows the IANA zone (Intl throws RangeError for unknown zones). */
export function isValidTimeZone(timeZone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone });
    return true;
  } catch {
    return false;
  }
}

export const timeZoneSchema = z
  .string()
  .min(1)
  .max(64)
  .refine(isValidTimeZone, 'must be an IANA time zone such as "Europe/Berlin" or "UTC"');

export const slugSchema = z
  .string()
  .min(2)
  .max(48)
  .regex(/^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$/, 'must be lowercase letters, digits and dashes, e.g. "acme-eng"');
