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
  // A flat object of plain values is its own JSON value: no copy.
  if (flatKeys(value) !== undefined) return JSON.stringify(value);
  return JSON.stringify(toJsonValue(value));
}

/**
 * The keys of a plain object whose values are all strings, booleans, finite numbers or null, none
 * of them an array index and the object no tagged bigint; else undefined. Such an object (the
 * ledger's `{ requestId }` on every hold) encodes without the generic walk, to the same text.
 */
function flatKeys(value: unknown): string[] | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value) || !isPlainObject(value)) return undefined;
  const keys = Object.keys(value);
  if (keys.length === 1 && keys[0] === bigintTag) return undefined;
  for (const key of keys) {
    // JSON.stringify writes array-index keys first, in numeric order, and the generic copy drops
    // an own __proto__: both are left to the generic path.
    const first = key.charCodeAt(0);
    if ((first >= 48 && first <= 57) || key === '__proto__') return undefined;
    const item = value[key];
    const kind = typeof item;
    if (kind === 'string' || kind === 'boolean' || item === null) continue;
    if (kind === 'number' && Number.isFinite(item)) continue;
    return undefined;
  }
  return keys;
}

/** Text that JSON writes as it is, between quotes: no quote, backslash, control character or surrogate. */
// eslint-disable-next-line no-control-regex -- the control characters JSON escapes
const plainJsonText = /^[^"\\\u0000-\u001f\ud800-\udfff]*$/;

/**
 * `JSON.stringify` of one string, equal to it for every string: text that needs no escape (ids,
 * codes, account ids) skips its generic entry, about four times as fast. The ledger writes six a row.
 */
export function jsonString(text: string): string {
  return plainJsonText.test(text) ? `"${text}"` : JSON.stringify(text);
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
  const keys = flatKeys(value);
  if (keys !== undefined) {
    const record = value as Record<string, string | boolean | number | null>;
    keys.sort();
    let out = '{';
    for (let index = 0; index < keys.length; index++) {
      const key = keys[index] as string;
      const item = record[key];
      out += `${index > 0 ? ',' : ''}${jsonString(key)}:${typeof item === 'string' ? jsonString(item) : String(item)}`;
    }
    return `${out}}`;
  }
  return JSON.stringify(sortKeys(toJsonValue(value)));
}

function sortKeys(value: JsonValue): JsonValue {
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map(sortKeys);
  const out: Record<string, JsonValue> = {};
  for (const key of Object.keys(value).sort()) out[key] = sortKeys(value[key] as JsonValue);
  return out;
}
