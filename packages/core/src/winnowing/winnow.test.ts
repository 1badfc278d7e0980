import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ValidationError } from '../errors';
import { kgramHashes, mix32, symbolHash32 } from './hash';
import { guaranteeThreshold, resolveWinnowingOptions, winnowingDefaults } from './options';
import type { CodeToken } from './tokenize';
import { fingerprintLines, fingerprintText, winnow } from './winnow';

const tokensOf = (symbols: readonly string[]): CodeToken[] =>
  symbols.map((symbol, index) => ({ kind: 'identifier', symbol, line: index + 1 }));

describe('winnow', () => {
  it('selects the rightmost minimum of each window, each position once (the paper`s example)', () => {
    // Schleimer, Wilkerson and Aiken 2003, figure 2: w = 4 over these 17 hashes keeps 17 17 8 39 17.
    const hashes = [77, 74, 42, 17, 98, 50, 17, 98, 8, 88, 67, 39, 77, 74, 42, 17, 98];
    const fingerprints = winnow(hashes, 4);
    expect(fingerprints.map((f) => f.hash)).toEqual([17, 17, 8, 39, 17]);
    expect(fingerprints.map((f) => f.position)).toEqual([3, 6, 8, 11, 15]);
  });

  it('takes the rightmost of equal hashes, so a run of equal hashes keeps one position per window', () => {
    expect(winnow([5, 5, 5, 5, 5, 5], 3).map((f) => f.position)).toEqual([2, 3, 4, 5]);
    expect(winnow([1, 9, 1, 9, 9], 3).map((f) => f.position)).toEqual([2]);
  });

  it('treats fewer than w hashes as one window, and no hashes as no fingerprint', () => {
    expect(winnow([4, 2, 3, 2], 10)).toEqual([{ hash: 2, position: 3 }]);
    expect(winnow([], 10)).toEqual([]);
  });

  it('matches a brute-force window minimum on any input', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 20 }), { maxLength: 60 }),
        fc.integer({ min: 1, max: 8 }),
        (hashes, w) => {
          const expected: number[] = [];
          const window = Math.min(w, hashes.length);
          for (let start = 0; start + window <= hashes.length && hashes.length > 0; start += 1) {
            const slice = hashes.slice(start, start + window);
            const min = Math.min(...slice);
            const position = start + slice.lastIndexOf(min);
            if (expected.at(-1) !== position) expected.push(position);
          }
          expect(winnow(hashes, w).map((f) => f.position)).toEqual(expected);
        },
      ),
    );
  });
});

describe('kgramHashes', () => {
  it('is the same rolled as computed afresh for each k-gram, and every hash is a 53-bit integer', () => {
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom('a', 'b', 'c', '$id', '{'), { maxLength: 40 }),
        fc.integer({ min: 1, max: 10 }),
        (symbols, k) => {
          const tokens = tokensOf(symbols);
          const rolled = kgramHashes(tokens, k);
          expect(rolled).toHaveLength(Math.max(0, tokens.length - k + 1));
          rolled.forEach((hash, index) => {
            expect(Number.isSafeInteger(hash) && hash >= 0).toBe(true);
            expect(hash).toBe(kgramHashes(tokens.slice(index, index + k), k)[0]);
          });
        },
      ),
    );
  });

  it('gives the same values in every process and Node version (pinned)', () => {
    // If this changes, stored fingerprints no longer match new ones: never change it in place.
    const hashes = kgramHashes(tokensOf(['const', '$id', '=', '$num', 'return', '$id']), 3);
    expect(hashes).toEqual([8557687327546966, 3079263289565584, 1248987378348569, 8888684126902762]);
  });

  it('is exactly the polynomial hash computed with exact integers', () => {
    // sum of value_i * base^(k-1-i) modulo 2^32 per lane, then mixed: no float rounding anywhere.
    const lane = (values: number[], base: bigint) =>
      Number(values.reduce((sum, value) => (sum * base + BigInt(value)) % 2n ** 32n, 0n));
    const symbols = ['if', '(', '$id', '===', '$num', ')', '{', 'return', '}'];
    const valuesA = symbols.map(symbolHash32);
    const valuesB = valuesA.map((value) => mix32(value ^ 0x9e3779b9));
    const k = 4;
    const expected = symbols.slice(0, symbols.length - k + 1).map((_, start) => {
      const laneA = lane(valuesA.slice(start, start + k), 0x01000193n);
      const laneB = lane(valuesB.slice(start, start + k), 0x5bd1e995n);
      return (mix32(laneA) >>> 11) * 2 ** 32 + mix32(laneB);
    });
    expect(kgramHashes(tokensOf(symbols), k)).toEqual(expected);
  });
});

describe('options', () => {
  it('defaults to k = 15 and w = 10, so t = 24', () => {
    expect(resolveWinnowingOptions()).toEqual(winnowingDefaults);
    expect(guaranteeThreshold(resolveWinnowingOptions({ k: 5 }))).toBe(14);
  });

  it('refuses bad options, naming the field and what it must be', () => {
    expect(() => resolveWinnowingOptions({ k: 0 })).toThrow(ValidationError);
    expect(() => resolveWinnowingOptions({ k: 0 })).toThrow(/k: k must be at least 1/);
    expect(() => resolveWinnowingOptions({ w: 2.5 })).toThrow(/w must be a whole number/);
    expect(() => resolveWinnowingOptions({ w: 65 })).toThrow(/w must be at most 64/);
    expect(() => resolveWinnowingOptions({ window: 4 })).toThrow(ValidationError);
  });
});

describe('fingerprintText and fingerprintLines', () => {
  it('fingerprints text whose tokens keep their lines, and lines that need not be consecutive', () => {
    const code = 'function area(r) {\n  const pi = 3.14;\n  return pi * r * r;\n}';
    const fromText = fingerprintText(code, { k: 4, w: 3 }, 7);
    const fromLines = fingerprintLines(
      code.split('\n').map((text, index) => ({ line: [7, 9, 12, 13][index]!, text })),
      { k: 4, w: 3 },
    );
    expect(fromLines.fingerprints).toEqual(fromText.fingerprints);
    expect(fromText.tokens.map((token) => token.line)).toEqual([7, 7, 7, 7, 7, 7, 8, 8, 8, 8, 9, 9, 9, 9, 9, 9, 10]);
    expect(fromLines.tokens.map((token) => token.line).at(-1)).toBe(13);
    expect(() => fingerprintLines([{ line: 1, text: 'a\nb' }])).toThrow(/one CodeLine per line/);
  });
});
