import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { amountMax, amountMin } from './amount';
import {
  bigintTag,
  canonicalJson,
  fromJsonValue,
  jsonDepthMax,
  jsonString,
  parseJson,
  stringifyJson,
  toJsonValue,
  type JsonValue,
} from './codec';
import { AmountOverflowError, ValidationError } from './errors';
import { InvariantError } from './invariant';
import { amountSchema } from './schemas';

/** JSON-like values with bigints anywhere, the extremes weighted in. */
export const valueWithAmounts = fc.letrec((tie) => ({
  leaf: fc.oneof(
    fc.bigInt({ min: amountMin, max: amountMax }),
    fc.constantFrom(amountMax, amountMin, 0n, -1n),
    fc.string(),
    fc.integer(),
    fc.boolean(),
    fc.constant(null),
  ),
  node: fc.oneof(
    { depthSize: 'small' },
    tie('leaf'),
    fc.array(tie('node'), { maxLength: 4 }),
    fc.dictionary(
      fc.string().filter((key) => key !== bigintTag && key !== '__proto__'),
      tie('node'),
      { maxKeys: 4 },
    ),
  ),
})).node;

describe('the amount codec', () => {
  it('round-trips any value holding bigints through JSON text', () => {
    fc.assert(
      fc.property(valueWithAmounts, (value) => {
        expect(parseJson(stringifyJson(value))).toEqual(value);
      }),
      { numRuns: 1000 },
    );
  });

  it('writes bigints as tagged decimal strings, never as lossy numbers', () => {
    expect(stringifyJson({ cost: amountMax })).toBe('{"cost":{"$bigint":"9223372036854775807"}}');
    expect(JSON.parse(stringifyJson([amountMin]))).toEqual([{ $bigint: '-9223372036854775808' }]);
  });

  it('refuses a tagged value outside the amount range instead of truncating it', () => {
    expect(() => parseJson('{"$bigint":"9223372036854775808"}')).toThrow(AmountOverflowError);
    expect(() => parseJson('{"$bigint":"1e3"}')).toThrow(/integer count of minor units/);
  });

  it('refuses to write a bigint outside the amount range, so no reader is handed one', () => {
    expect(() => stringifyJson({ total: amountMax + 1n })).toThrow(AmountOverflowError);
  });

  it('refuses values it cannot carry faithfully', () => {
    expect(() => toJsonValue({ x: Number.NaN })).toThrow(ValidationError);
    expect(() => toJsonValue(new Map())).toThrow(/instance of Map/);
    expect(() => toJsonValue({ [bigintTag]: '1' })).toThrow(InvariantError);
    let deep: unknown = 1n;
    for (let i = 0; i <= jsonDepthMax + 1; i++) deep = [deep];
    expect(() => toJsonValue(deep)).toThrow(/deeper than/);
    expect(() =>
      fromJsonValue(JSON.parse(JSON.stringify(deep, (_k, v: unknown) => (typeof v === 'bigint' ? 0 : v)))),
    ).toThrow(/deeper than/);
  });

  it('validates amounts from input as bigint or integer string, never a float', () => {
    expect(amountSchema.parse('123')).toBe(123n);
    expect(amountSchema.parse(5n)).toBe(5n);
    expect(amountSchema.safeParse(1.5).success).toBe(false);
    expect(amountSchema.safeParse('1.5').success).toBe(false);
    expect(amountSchema.safeParse(amountMax + 1n).success).toBe(false);
  });
});

describe('canonical JSON', () => {
  it('gives the same text whatever the key order, and keeps bigints', async () => {
    const { canonicalJson } = await import('./codec');
    expect(canonicalJson({ b: 1, a: { d: 2n, c: [{ z: 1, y: 2 }] } })).toBe(
      canonicalJson({ a: { c: [{ y: 2, z: 1 }], d: 2n }, b: 1 }),
    );
    expect(canonicalJson({ b: 1, a: 2 })).toBe('{"a":2,"b":1}');
  });
});

describe('the fast paths of the JSON encoders write what the generic ones write', () => {
  /** The generic encoders as they were: a copy through toJsonValue, keys sorted at every level. */
  const sorted = (value: JsonValue): JsonValue =>
    value === null || typeof value !== 'object'
      ? value
      : Array.isArray(value)
        ? value.map(sorted)
        : Object.fromEntries(
            Object.keys(value)
              .sort()
              .map((key) => [key, sorted(value[key] as JsonValue)]),
          );
  const genericCanonical = (value: unknown) => JSON.stringify(sorted(toJsonValue(value)));
  const genericStringify = (value: unknown) => JSON.stringify(toJsonValue(value));
  /** The text, or the kind of error (a tagged bigint is refused by both). */
  const outcome = (encode: () => string) => {
    try {
      return encode();
    } catch (error) {
      return `threw ${(error as Error).name}`;
    }
  };
  // Every kind of text: quotes, backslashes, controls, lone and paired surrogates, non-ASCII.
  const text = fc.oneof(
    fc.string({ unit: 'binary', maxLength: 30 }),
    fc.string({ unit: fc.constantFrom('a', '"', '\\', '\u0000', '\u001f', '\u007f', '\ud800', '\udc00', 'é', '😀') }),
  );
  const key = fc.oneof(text, fc.constantFrom('9', '10', '01', '0', '', ' ', 'a', 'B', '$bigint', '__proto__'));
  const flatValue = fc.oneof(
    text,
    fc.boolean(),
    fc.constant(null),
    fc.integer(),
    fc.double({ noNaN: true, noDefaultInfinity: true }),
  );
  const flat = fc.dictionary(key, flatValue, { maxKeys: 6 });

  it('jsonString is JSON.stringify for any string', () => {
    fc.assert(
      fc.property(text, (value) => {
        expect(jsonString(value)).toBe(JSON.stringify(value));
      }),
      { numRuns: 5_000 },
    );
    for (const value of ['', 'plain-id', 'a"b', 'a\\b', '\n', '\u2028', '\ud83d\ude00', '\ud83d', 'x\udc00'])
      expect(jsonString(value)).toBe(JSON.stringify(value));
  });

  it('canonicalJson and stringifyJson of flat objects, array-index keys and tagged bigints among them', () => {
    fc.assert(
      fc.property(flat, (value) => {
        expect(outcome(() => canonicalJson(value))).toBe(outcome(() => genericCanonical(value)));
        expect(outcome(() => stringifyJson(value))).toBe(outcome(() => genericStringify(value)));
      }),
      { numRuns: 3_000 },
    );
    expect(canonicalJson({ b: 'x', 10: true, 9: null, a: -0 })).toBe('{"9":null,"10":true,"a":0,"b":"x"}');
    expect(() => canonicalJson({ [bigintTag]: '5' })).toThrow(InvariantError);
    expect(() => stringifyJson({ [bigintTag]: '5' })).toThrow(InvariantError);
    expect(() => canonicalJson({ weight: Number.POSITIVE_INFINITY })).toThrow(ValidationError);
    // An own __proto__ (from JSON.parse) is dropped as the generic copy drops it.
    const parsed = JSON.parse('{"__proto__":"x","a":"y"}') as Record<string, unknown>;
    expect(canonicalJson(parsed)).toBe(genericCanonical(parsed));
    expect(stringifyJson(parsed)).toBe(genericStringify(parsed));
  });
});
