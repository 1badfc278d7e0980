import { z } from 'zod';
import { parseWith } from '../parse-with';

/**
 * Winnowing's two knobs, in normalised tokens (see `tokenize.ts`).
 *
 * - `k`, the noise threshold: a shared run shorter than k tokens can never match. With names and
 *   literals collapsed, one normalised token carries only a few bits, so k must outgrow the
 *   idioms every codebase shares: `for (let i = 0; i < n; i++)` is 12 tokens, an import line
 *   6, `if (x === null) { return null; }` 10. The default 15 is one to two ordinary lines.
 * - `w`, the window: one fingerprint is the minimum of each w consecutive k-gram hashes, so about
 *   2 / (w + 1) of all positions are kept (18% at w = 10: ~180 fingerprints for a 1,000-token
 *   completion).
 * - t = w + k - 1, the guarantee threshold: every shared run of at least t tokens yields a shared
 *   fingerprint. The defaults give t = 24, about three lines: copying three or more lines of a
 *   completion into a merged diff is always noticed, while a completion below t code tokens
 *   (`codeTokenCount`) is too short to be judged at all.
 */
export interface WinnowingOptions {
  readonly k: number;
  readonly w: number;
}

export const winnowingKMax = 64;
export const winnowingWMax = 64;

export const winnowingDefaults: WinnowingOptions = Object.freeze({ k: 15, w: 10 });

export const winnowingOptionsSchema = z
  .object({
    k: z
      .number()
      .int('k must be a whole number of tokens')
      .min(1, 'k must be at least 1 token (15 is the default)')
      .max(winnowingKMax, `k must be at most ${winnowingKMax} tokens (15 is the default)`)
      .default(winnowingDefaults.k)
      .describe('Noise threshold: shared runs shorter than k normalised tokens never match.'),
    w: z
      .number()
      .int('w must be a whole number of k-grams')
      .min(1, 'w must be at least 1 k-gram (10 is the default)')
      .max(winnowingWMax, `w must be at most ${winnowingWMax} k-grams (10 is the default)`)
      .default(winnowingDefaults.w)
      .describe('Window: every shared run of at least w + k - 1 tokens is found.'),
  })
  .strict();

/** Validates winnowing options, filling defaults; throws a ValidationError saying what to fix. */
export function resolveWinnowingOptions(input: unknown = {}): WinnowingOptions {
  return parseWith(winnowingOptionsSchema, input ?? {}, 'winnowing options');
}

/** t = w + k - 1: the shortest shared run that is always found. */
export function guaranteeThreshold(options: WinnowingOptions): number {
  return options.w + options.k - 1;
}
