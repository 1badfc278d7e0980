import { parseJson, stringifyJson, fromJsonValue } from '@tokenwise/core';
import { bigint, customType } from 'drizzle-orm/pg-core';

/** An amount in minor units: PostgreSQL bigint, TypeScript bigint. Never a float, never a string. */
export const amount = () => bigint({ mode: 'bigint' });

/**
 * jsonb that goes through the core amount codec, so bigints inside survive the round trip
 * (plain jsonb would throw on write, and a number would lose precision).
 */
/** The text a codec jsonb column stores for `value` (null stays SQL NULL). */
export function stringifyJsonb(value: unknown): string | null {
  return value === null || value === undefined ? null : stringifyJson(value);
}

export const codecJsonb = customType<{ data: unknown; driverData: unknown }>({
  dataType: () => 'jsonb',
  toDriver: (value) => stringifyJson(value),
  fromDriver: (value) => (typeof value === 'string' ? parseJson(value) : fromJsonValue(value)),
});
