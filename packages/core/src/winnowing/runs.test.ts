import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { completionTokensInRuns, mergedLinesOfRuns, sharedRuns } from './runs';
import { fingerprintHashes } from './score';
import { fingerprintCompletion, fingerprintDiff, matchedMergedLines, mergedLinesSharedWith } from './sources';
import type { CodeToken } from './tokenize';
import { fingerprintTokens } from './winnow';

const tokensOf = (symbols: readonly string[]): CodeToken[] =>
  symbols.map((symbol, index) => ({ kind: 'punctuation', symbol, line: index }));
const symbols = (maxLength: number, minLength = 0) =>
  fc.array(fc.constantFrom('$id', '(', ')', '=', 'return', '$num'), { minLength, maxLength });

describe('sharedRuns', () => {
  it('covers the whole of every inserted run of at least t tokens, and reports only maximal runs of equal tokens', () => {
    const scenario = fc
      .record({ k: fc.integer({ min: 1, max: 10 }), w: fc.integer({ min: 1, max: 10 }) })
      .chain(({ k, w }) =>
        fc.record({
          k: fc.constant(k),
          w: fc.constant(w),
          run: symbols(w + k + 20, w + k - 1),
          parts: fc.tuple(symbols(50), symbols(50), symbols(50), symbols(50)),
        }),
      );
    fc.assert(
      fc.property(scenario, ({ k, w, run, parts: [beforeA, afterA, beforeB, afterB] }) => {
        const completion = fingerprintTokens(tokensOf([...beforeA, ...run, ...afterA]), { k, w });
        const merged = fingerprintTokens(tokensOf([...beforeB, ...run, ...afterB]), { k, w });
        const runs = sharedRuns(completion, merged);
        const symbolAt = (piece: typeof merged, index: number) => piece.tokens[index]?.symbol;
        for (const found of runs) {
          expect(found.length).toBeGreaterThanOrEqual(k);
          for (let offset = 0; offset < found.length; offset += 1) {
            expect(symbolAt(completion, found.completionStart + offset)).toBe(
              symbolAt(merged, found.mergedStart + offset),
            );
          }
          const before = [found.completionStart - 1, found.mergedStart - 1] as const;
          const after = [found.completionStart + found.length, found.mergedStart + found.length] as const;
          for (const [c, m] of [before, after]) {
            const both = symbolAt(completion, c) !== undefined && symbolAt(merged, m) !== undefined;
            expect(both && symbolAt(completion, c) === symbolAt(merged, m)).toBe(false);
          }
        }
        const inserted = runs.find(
          (found) =>
            found.mergedStart - found.completionStart === beforeB.length - beforeA.length &&
            found.completionStart <= beforeA.length &&
            found.completionStart + found.length >= beforeA.length + run.length,
        );
        expect(inserted).toBeDefined();
      }),
      { numRuns: 300 },
    );
  });

  it('credits merged lines to the ends of a copied function, where fingerprints alone stop short', () => {
    const code = [
      'export function chunk<T>(items: readonly T[], size: number): T[][] {',
      '  const chunks: T[][] = [];',
      '  for (let start = 0; start < items.length; start += size) {',
      '    chunks.push(items.slice(start, start + size));',
      '  }',
      '  return chunks;',
      '}',
    ];
    const patch = [
      '@@ -1,1 +1,9 @@',
      ' // utilities',
      '+',
      ...code.map((line) => `+${line.replaceAll('chunks', 'out')}`),
    ];
    const merged = fingerprintDiff(patch.join('\n'), undefined, 'src/chunk.ts');
    const completion = fingerprintCompletion(`\`\`\`ts\n${code.join('\n')}\n\`\`\``);
    const lines = (keys: string[]) => keys.map((key) => Number(key.split(':')[1]));
    expect(lines(mergedLinesSharedWith(merged, completion))).toEqual([3, 4, 5, 6, 7, 8, 9]);
    expect(lines(matchedMergedLines(merged, fingerprintHashes(completion))).length).toBeLessThan(7);
    const runs = sharedRuns(completion[0]!, merged[0]!.code);
    expect(completionTokensInRuns(completion[0]!, runs)).toBe(completion[0]!.tokens.length);
    expect(mergedLinesOfRuns(merged[0]!.code, runs)).toEqual([3, 4, 5, 6, 7, 8, 9]);
  });

  it('starts no run from fingerprints removed on either side', () => {
    const piece = fingerprintTokens(tokensOf('a b c d e f g h i j'.split(' ')), { k: 3, w: 2 });
    expect(sharedRuns(piece, piece).map((found) => found.length)).toEqual([10]);
    expect(sharedRuns({ ...piece, fingerprints: [] }, piece)).toEqual([]);
  });
});
