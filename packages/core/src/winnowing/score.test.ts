import { describe, expect, it } from 'vitest';
import { codeTokenCount } from './extract-code-blocks';
import {
  allWithoutIgnored,
  containment,
  fingerprintHashes,
  frequentFingerprints,
  matchedLines,
  matchedTokenCount,
  withoutIgnored,
} from './score';
import { fingerprintCompletion, fingerprintDiff, matchedMergedLines } from './sources';
import { fingerprintText } from './winnow';

const completion = `Here is a function that groups items by a key:

\`\`\`ts
export function groupBy<T, K extends string>(items: readonly T[], keyOf: (item: T) => K): Record<K, T[]> {
  const groups = {} as Record<K, T[]>;
  for (const item of items) {
    const key = keyOf(item);
    (groups[key] ??= []).push(item);
  }
  return groups;
}
\`\`\`

Call it as \`groupBy(users, (u) => u.team)\`.`;

// The pull request adds the function with its own names and layout, between code of its own.
const patch = `@@ -1,3 +1,24 @@
 import { invariant } from './invariant';
+import type { Team } from './team';
 
+/** Buckets entries under the key each one maps to. */
+export function groupBy<T, K extends string>(
+  list: readonly T[],
+  pickKey: (entry: T) => K,
+): Record<K, T[]> {
+  const result = {} as Record<K, T[]>
+  for (const entry of list) {
+    const k = pickKey(entry)
+    ;(result[k] ??= []).push(entry)
+  }
+  return result
+}
+
+export function teamSizes(teams: readonly Team[]): Map<string, number> {
+  const sizes = new Map<string, number>();
+  teams.forEach((team) => sizes.set(team.id, team.members.length));
+  invariant(sizes.size === teams.length, 'team ids are unique');
+  return sizes;
+}
+
 export const version = 1;`;

const unrelated = `\`\`\`ts
export class RetryPolicy {
  constructor(private readonly attemptsMax: number, private readonly baseDelayMs: number) {}

  delayMs(attempt: number): number {
    if (attempt >= this.attemptsMax) throw new Error('no attempts left');
    return this.baseDelayMs * 2 ** attempt + Math.floor(Math.random() * 100);
  }

  async run<T>(work: () => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt += 1) {
      try {
        return await work();
      } catch (error) {
        await new Promise((resolve) => setTimeout(resolve, this.delayMs(attempt)));
      }
    }
  }
}
\`\`\``;

describe('scoring a completion against a merged diff', () => {
  const merged = fingerprintDiff(patch, undefined, 'src/group.ts');
  const mergedHashes = fingerprintHashes(merged.map((file) => file.code));

  it('finds a function merged with renamed variables and another layout: high containment, its lines matched', () => {
    const pieces = fingerprintCompletion(completion);
    const score = containment(pieces, mergedHashes);
    expect(score.totalFingerprints).toBeGreaterThan(5);
    expect(score.containment).toBeGreaterThanOrEqual(0.9);
    // Most tokens lie in a matched k-gram: up to w - 1 at either end of a run precede the first
    // selected k-gram or follow the last (here 4 and 8 of 85).
    expect(matchedTokenCount(pieces, mergedHashes)).toBeGreaterThanOrEqual(0.8 * codeTokenCount(completion));
    const lines = matchedMergedLines(merged, fingerprintHashes(pieces));
    expect(lines).toContain('src/group.ts:5');
    expect(lines).toContain('src/group.ts:12');
    expect(lines.filter((key) => Number(key.split(':')[1]) >= 16)).toEqual([]);
  });

  it('scores unrelated code near zero', () => {
    const score = containment(fingerprintCompletion(unrelated), mergedHashes);
    expect(score.totalFingerprints).toBeGreaterThan(10);
    expect(score.containment).toBeLessThanOrEqual(0.05);
  });

  it('gives no fingerprints, so containment 0, to a completion without code', () => {
    expect(containment(fingerprintCompletion('Sorry, I cannot help with that.'), mergedHashes)).toEqual({
      matchedFingerprints: 0,
      totalFingerprints: 0,
      containment: 0,
    });
  });
});

describe('ignoring boilerplate', () => {
  const licence = `/*
 * Copyright (c) Example Corp. Licensed under the MIT licence.
 */
const app = createApp({ logger: console, trustProxy: true });
app.use(jsonBody({ limit: '1mb' }));
app.listen(Number(process.env.PORT ?? 3000), () => console.log('listening'));`;
  const own = `export function slugify(title: string): string {
  return title.toLowerCase().normalize('NFKD').replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '');
}`;

  it('drops fingerprints in the ignore set from both sides, so only code of its own counts', () => {
    const base = fingerprintHashes([fingerprintText(licence)]);
    const completionPieces = [fingerprintText(`${licence}\n${own}`)];
    const mergedPieces = [fingerprintText(`${licence}\n// nothing else`)];
    const raw = containment(completionPieces, fingerprintHashes(mergedPieces));
    expect(raw.matchedFingerprints).toBeGreaterThan(0);
    const filtered = containment(
      allWithoutIgnored(completionPieces, base),
      fingerprintHashes(allWithoutIgnored(mergedPieces, base)),
    );
    expect(filtered.matchedFingerprints).toBe(0);
    expect(filtered.totalFingerprints).toBeGreaterThan(0);
  });

  it('keeps the tokens, so lines still map, and drops only the listed hashes', () => {
    const piece = fingerprintText(own, { k: 5, w: 4 });
    const [first, ...rest] = piece.fingerprints;
    const kept = withoutIgnored(piece, new Set([first!.hash]));
    expect(kept.tokens).toBe(piece.tokens);
    expect(kept.fingerprints).toEqual(rest.filter((f) => f.hash !== first!.hash));
  });
});

describe('matched length and lines', () => {
  it('counts each covered token once and reports the lines of covered tokens', () => {
    const piece = fingerprintText('a = b + c\nd - e * f\ng / h', { k: 3, w: 1 });
    // w = 1 keeps every k-gram: positions 0..10 over 13 tokens.
    const everything = fingerprintHashes([piece]);
    expect(matchedTokenCount([piece], everything)).toBe(13);
    expect(matchedLines(piece, everything)).toEqual([1, 2, 3]);
    const firstOnly = new Set([piece.fingerprints[0]!.hash]);
    expect(matchedLines(piece, firstOnly)).toEqual([1]);
    expect(matchedTokenCount([piece], new Set())).toBe(0);
  });
});

describe('frequentFingerprints', () => {
  it('finds the hashes that many completions share, to be ignored as boilerplate', () => {
    const documents = [new Set([1, 2, 3]), new Set([2, 3]), new Set([3, 4]), new Set([3])];
    expect([...frequentFingerprints(documents, 3)]).toEqual([3]);
    expect([...frequentFingerprints(documents, 2)].sort()).toEqual([2, 3]);
    expect(frequentFingerprints([], 1).size).toBe(0);
    expect(() => frequentFingerprints(documents, 0)).toThrow(/documentsMin must be a whole number >= 1/);
  });
});
