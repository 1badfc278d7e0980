import { assertAmount, parseMinorUnits } from './amount';
import { ValidationError } from './errors';
import { invariant } from './invariant';

/**
 * The one codec that carries bigint amounts across every boundary: JSON over tRPC and HTTP,
 * Temporal payloads, and JSON columns in SQL. `JSON.stringify` throws on bigint and the default
 * Temporal payload converter does too, so every such boundary goes through here.
 *
 * A bigint travels as `{"$bigint":"<decimal>"}`: unambiguous, readable in the Temporal UI, and
 * impossible to confuse with a number that lost precision.
 */
export const bigintTag = '$bigint';

/** Deeper values are refused: they are never legitimate here and would exhaust the stack. */
export const jsonDepthMax = 64;

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

function isPlainObject(value: object): value is Record<string, unknown> {
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

function isTaggedBigint(value: Record<string, unknown>): boolean {
  const keys = Object.keys(value);
  return keys.length === 1 && keys[0] === bigintTag && typeof value[bigintTag] === 'string';
}

/** Converts a value holding bigints into plain JSON. Dates become ISO strings, as JSON.stringify does. */
export function toJsonValue(value: unknown, depth = 0): JsonValue {
  if (depth > jsonDepthMax) throw new ValidationError(`Value nests deeper than ${jsonDepthMax} levels.`);
  switch (typeof value) {
    case 'bigint':
      assertAmount(value, 'bigint value');
      return { [bigintTag]: value.toString() };
    case 'string':
    case 'boolean':
      return value;
    case 'number':
      if (!Number.isFinite(value)) throw new ValidationError(`Cannot encode the non-finite number ${value}.`);
      return value;
    case 'object': {
      if (value === null) return null;
      if (Array.isArray(value)) return value.map((item) => (item === undefined ? null : toJsonValue(item, depth + 1)));
      if (value instanceof Date) return value.toISOString();
      if (!isPlainObject(value)) {
        throw new ValidationError(`Cannot encode an instance of ${value.constructor?.name ?? 'unknown'} as JSON.`);
      }
      invariant(!isTaggedBigint(value), `An object whose only key is "${bigintTag}" is reserved for bigints.`);
      const out: Record<string, JsonValue> = {};
      for (const [key, item] of Object.entries(value)) {
        if (item !== undefined) out[key] = toJsonValue(item, depth + 1);
      }
      return out;
    }
    default:
      throw new ValidationError(`Cannot encode a ${typeof value} as JSON.`);
  }
}

/** Reverses `toJsonValue`: tagged bigints become bigint again, validated to the amount range. */
export function fromJsonValue(value: unknown, depth = 0): unknown {
  if (depth > jsonDepthMax) throw new ValidationError(`Value nests deeper than ${jsonDepthMax} levels.`);
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((item) => fromJsonValue(item, depth + 1));
  const record = value as Record<string, unknown>;
  if (isTaggedBigint(record)) return parseMinorUnits(record[bigintTag] as string, 'bigint value');
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(record)) out[key] = fromJsonValue(item, depth + 1);
  return out;
}

/** JSON.stringify that carries bigints. */
export function stringifyJson(value: unknown): string {
  return JSON.stringify(toJsonValue(value));
}

/** JSON.parse that restores bigints written by `stringifyJson`. */
export function parseJson(text: string): unknown {
  return fromJsonValue(JSON.parse(text));
}

/** The codec in the `{ serialize, deserialize }` shape that tRPC transformers expect. */
export const amountCodec = {
  serialize: (value: unknown): JsonValue => toJsonValue(value),
  deserialize: (value: unknown): unknown => fromJsonValue(value),
} as const;

/**
 * JSON with object keys sorted at every level: the same value always gives the same text, whatever
 * order its keys were built in (jsonb reorders keys). Used where text is hashed or MACed.
 */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(toJsonValue(value)));
}

function sortKeys(value: JsonValue): JsonValue {
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map(sortKeys);
  const out: Record<string, JsonValue> = {};
  for (const key of Object.keys(value).sort()) out[key] = sortKeys(value[key] as JsonValue);
  return out;
}
