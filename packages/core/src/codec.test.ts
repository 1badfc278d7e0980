import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { amountMax, amountMin } from './amount';
import { bigintTag, fromJsonValue, jsonDepthMax, parseJson, stringifyJson, toJsonValue } from './codec';
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
