import fc from 'fast-check';
import { expect, it } from 'vitest';
import { kgramHashes } from './hash';
import type { CodeToken } from './tokenize';
import { fingerprintTokens } from './winnow';

// The two guarantees of winnowing, over normalised token streams: a shared run of at least
// t = w + k - 1 tokens always yields a shared fingerprint inside it, and a shared run shorter
// than k never yields one at all.

const tokensOf = (symbols: readonly string[]): CodeToken[] =>
  symbols.map((symbol) => ({ kind: 'punctuation', symbol, line: 1 }));
const symbolsFrom = (alphabet: string[], lengths: { minLength?: number; maxLength: number }) =>
  fc.array(fc.constantFrom(...alphabet), lengths);
// A small alphabet: the random parts repeat themselves and the run, the hard case for minima.
const alphabet = ['$id', '(', ')', '=', 'return', '$num'];
const options = fc.record({ k: fc.integer({ min: 1, max: 12 }), w: fc.integer({ min: 1, max: 12 }) });

it('finds every shared run of at least t tokens, with a shared fingerprint inside the run on both sides', () => {
  const scenario = options.chain(({ k, w }) =>
    fc.record({
      k: fc.constant(k),
      w: fc.constant(w),
      run: symbolsFrom(alphabet, { minLength: w + k - 1, maxLength: w + k + 30 }),
      beforeA: symbolsFrom(alphabet, { maxLength: 80 }),
      afterA: symbolsFrom(alphabet, { maxLength: 80 }),
      beforeB: symbolsFrom(alphabet, { maxLength: 80 }),
      afterB: symbolsFrom(alphabet, { maxLength: 80 }),
    }),
  );
  fc.assert(
    fc.property(scenario, ({ k, w, run, beforeA, afterA, beforeB, afterB }) => {
      const a = fingerprintTokens(tokensOf([...beforeA, ...run, ...afterA]), { k, w });
      const b = fingerprintTokens(tokensOf([...beforeB, ...run, ...afterB]), { k, w });
      // Fingerprints whose k-gram lies wholly inside the run.
      const inside = (start: number) => (f: { position: number }) =>
        f.position >= start && f.position + k <= start + run.length;
      const hashesInB = new Set(b.fingerprints.filter(inside(beforeB.length)).map((f) => f.hash));
      const shared = a.fingerprints.filter(inside(beforeA.length)).filter((f) => hashesInB.has(f.hash));
      expect(shared.length).toBeGreaterThan(0);
    }),
    { numRuns: 300 },
  );
});

it('never matches a shared run shorter than k between sequences that share nothing else', () => {
  // Disjoint alphabets around the run: every k-gram of A holds a token B never has, and back.
  const scenario = options.chain(({ k, w }) =>
    fc.record({
      k: fc.constant(k),
      w: fc.constant(w),
      run: symbolsFrom(['c0', 'c1', 'c2'], { minLength: 0, maxLength: k - 1 }),
      beforeA: symbolsFrom(['a0', 'a1', 'a2'], { maxLength: 60 }),
      afterA: symbolsFrom(['a0', 'a1', 'a2'], { maxLength: 60 }),
      beforeB: symbolsFrom(['b0', 'b1', 'b2'], { maxLength: 60 }),
      afterB: symbolsFrom(['b0', 'b1', 'b2'], { maxLength: 60 }),
    }),
  );
  fc.assert(
    fc.property(scenario, ({ k, w, run, beforeA, afterA, beforeB, afterB }) => {
      const tokensA = tokensOf([...beforeA, ...run, ...afterA]);
      const tokensB = tokensOf([...beforeB, ...run, ...afterB]);
      const a = fingerprintTokens(tokensA, { k, w });
      const b = fingerprintTokens(tokensB, { k, w });
      const hashesInB = new Set(b.fingerprints.map((f) => f.hash));
      expect(a.fingerprints.filter((f) => hashesInB.has(f.hash))).toEqual([]);
      // Stronger: no k-gram hash at all is shared, selected or not.
      const gramsInB = new Set(kgramHashes(tokensB, k));
      expect(kgramHashes(tokensA, k).filter((hash) => gramsInB.has(hash))).toEqual([]);
    }),
    { numRuns: 300 },
  );
});
