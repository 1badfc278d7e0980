import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ValidationError } from '../errors';
import { creditLinesToEarliest, mergedLineKey, type RequestLineMatches } from './credit';
import { fingerprintHashes } from './score';
import { fingerprintCompletion, fingerprintDiff, matchedMergedLines } from './sources';

describe('creditLinesToEarliest', () => {
  it('credits each merged line to the earliest request that matched it, and to no other', () => {
    const credit = creditLinesToEarliest([
      { requestId: 'req-late', requestedAtMs: 3_000, lines: ['a.ts:1', 'a.ts:2', 'a.ts:3'] },
      { requestId: 'req-early', requestedAtMs: 1_000, lines: ['a.ts:2', 'a.ts:3'] },
      { requestId: 'req-middle', requestedAtMs: 2_000, lines: ['a.ts:3', 'b.ts:9'] },
    ]);
    expect(Object.fromEntries(credit)).toEqual({
      'a.ts:1': 'req-late',
      'a.ts:2': 'req-early',
      'a.ts:3': 'req-early',
      'b.ts:9': 'req-middle',
    });
  });

  it('breaks a tie of times by the smaller request id, whatever the input order', () => {
    const requests: RequestLineMatches[] = [
      { requestId: 'b', requestedAtMs: 5, lines: ['x:1'] },
      { requestId: 'a', requestedAtMs: 5, lines: ['x:1'] },
      { requestId: 'B', requestedAtMs: 5, lines: ['x:2'] },
      { requestId: 'c', requestedAtMs: 5, lines: ['x:2'] },
    ];
    expect(Object.fromEntries(creditLinesToEarliest(requests))).toEqual({ 'x:1': 'a', 'x:2': 'B' });
    fc.assert(
      fc.property(
        fc.uniqueArray(
          fc.record({
            requestId: fc.string({ minLength: 1, maxLength: 4 }),
            requestedAtMs: fc.integer({ min: 0, max: 3 }),
            lines: fc.array(fc.constantFrom<string>('x:1', 'x:2', 'x:3', 'y:1'), { maxLength: 4 }),
          }),
          { selector: (request) => request.requestId, maxLength: 8 },
        ),
        (input) => {
          const expected = creditLinesToEarliest(input);
          expect(creditLinesToEarliest([...input].reverse())).toEqual(expected);
          for (const [line, requestId] of expected) {
            const winner = input.find((request) => request.requestId === requestId)!;
            for (const other of input.filter((request) => request.lines.includes(line))) {
              const earlier =
                other.requestedAtMs < winner.requestedAtMs ||
                (other.requestedAtMs === winner.requestedAtMs && other.requestId < winner.requestId);
              expect(earlier).toBe(false);
            }
          }
        },
      ),
    );
  });

  it('refuses times that are not numbers and a request listed twice, saying what to fix', () => {
    expect(() => creditLinesToEarliest([{ requestId: 'r', requestedAtMs: Number.NaN, lines: [] }])).toThrow(
      /milliseconds since the epoch/,
    );
    const twice = [
      { requestId: 'r', requestedAtMs: 1, lines: ['a:1'] },
      { requestId: 'r', requestedAtMs: 2, lines: ['a:2'] },
    ];
    expect(() => creditLinesToEarliest(twice)).toThrow(ValidationError);
    expect(() => creditLinesToEarliest(twice)).toThrow(/merge its lines into one entry/);
  });

  it('credits a merged function to the first of two requests whose completions both hold it', () => {
    const code = `export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 0 ? (sorted[middle - 1]! + sorted[middle]!) / 2 : sorted[middle]!;
}`;
    const patch = `@@ -0,0 +1,${code.split('\n').length} @@\n${code
      .split('\n')
      .map((line) => `+${line.replaceAll('sorted', 'ordered')}`)
      .join('\n')}`;
    const merged = fingerprintDiff(patch, undefined, 'src/stats.ts');
    const matched = (completion: string) =>
      matchedMergedLines(merged, fingerprintHashes(fingerprintCompletion(completion)));
    const first = matched(`Sure:\n\`\`\`ts\n${code}\n\`\`\``);
    const second = matched(`Again:\n\`\`\`\n${code}\n\`\`\`\nHope it helps.`);
    expect(first.length).toBeGreaterThanOrEqual(3);
    expect(second).toEqual(first);
    const credit = creditLinesToEarliest([
      { requestId: 'req-2', requestedAtMs: Date.parse('2026-12-01T10:05:00Z'), lines: second },
      { requestId: 'req-1', requestedAtMs: Date.parse('2026-12-01T10:00:00Z'), lines: first },
    ]);
    expect(new Set(credit.values())).toEqual(new Set(['req-1']));
    expect([...credit.keys()].sort()).toEqual([...first].sort());
    expect(first).toContain(mergedLineKey('src/stats.ts', 2));
  });
});
