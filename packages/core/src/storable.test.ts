import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { stringifyJson } from './codec';
import { cutText, storableJson, storableText } from './storable';

/** What PostgreSQL refuses in text and jsonb: NUL, and any surrogate that is not part of a pair. */
const refusedByPostgres = (text: string) =>
  text.includes('\u0000') || /(?:[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff])/.test(text);

describe('storable client text', () => {
  it('drops NUL and replaces lone surrogates, keeping pairs and returning the same string when clean', () => {
    expect(storableText('a\u0000b')).toBe('ab');
    expect(storableText('\ud800x\udc00')).toBe('\ufffdx\ufffd');
    expect(storableText('😀')).toBe('😀');
    const clean = 'plain text';
    expect(storableText(clean)).toBe(clean);
  });

  it('cuts by code point, never inside a surrogate pair', () => {
    expect(cutText('ab😀', 3)).toBe('ab');
    expect(cutText('ab😀', 4)).toBe('ab😀');
    expect(storableText(cutText('😀😀', 3))).toBe('😀');
  });

  it('property: anything stored is accepted by PostgreSQL and by the codec', () => {
    const unit = fc.oneof(
      fc.constant('\u0000'),
      fc.integer({ min: 0xd800, max: 0xdfff }).map((code) => String.fromCharCode(code)),
      fc.string({ unit: 'binary' }),
      fc.constant('$bigint'),
    );
    const text = fc.array(unit, { maxLength: 6 }).map((parts) => parts.join(''));
    fc.assert(
      fc.property(
        fc.jsonValue().chain((shape) => fc.tuple(fc.constant(shape), text, fc.integer({ min: 0, max: 40 }))),
        ([shape, raw, cut]) => {
          expect(refusedByPostgres(storableText(raw))).toBe(false);
          expect(refusedByPostgres(storableText(cutText(raw, cut)))).toBe(false);
          expect(storableText(cutText(raw, cut)).length).toBeLessThanOrEqual(cut);
          const stored = stringifyJson(storableJson({ [raw]: shape, list: [raw, { $bigint: raw }] }));
          expect(refusedByPostgres(stored)).toBe(false);
        },
      ),
      { numRuns: 300, seed: 7 },
    );
  });
});
