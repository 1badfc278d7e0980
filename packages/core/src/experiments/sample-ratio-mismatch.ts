import { z } from 'zod';
import { parseWith } from '../parse-with';
import { chiSquareSf } from './numerics/distributions';

/**
 * Sample-ratio mismatch: did the experiment put users into variations in the split it was set up
 * with? Pearson's chi-square goodness of fit of the observed unit counts against the expected
 * shares, as gbstats 0.8.0 utils.check_srm. A mismatch means assignment or tracking is broken (or
 * the result was tampered with), so no effect computed from it is evidence.
 */

/** Below this p-value the split is refused (GrowthBook's default SRM threshold). */
export const srmPValueThreshold = 0.001;
/** Variations one check may compare; experiments beyond this are not A/B tests we can score. */
export const srmVariationsMax = 100;

export const sampleRatioInputSchema = z
  .object({
    /** Units observed in each variation, in the same order as `weights`. */
    counts: z
      .array(z.number().int('must be a whole number of units').min(0, 'must not be negative'))
      .min(2, 'needs at least two variations')
      .max(srmVariationsMax, `may hold at most ${srmVariationsMax} variations`),
    /** Expected traffic shares, in any scale (0.5/0.5 or 1/1 or 50/50). */
    weights: z
      .array(
        z
          .number()
          .gt(0, 'must be positive: a variation expected to get no traffic is not in the experiment')
          .refine(Number.isFinite, 'must be a finite number'),
      )
      .min(2, 'needs at least two variations')
      .max(srmVariationsMax, `may hold at most ${srmVariationsMax} variations`),
  })
  .refine((input) => input.counts.length === input.weights.length, {
    message: 'must give one weight per variation count',
    path: ['weights'],
  });
export type SampleRatioInput = z.input<typeof sampleRatioInputSchema>;

export interface SampleRatioResult {
  chiSquare: number;
  degreesOfFreedom: number;
  /** P-value of the observed split under the expected one; 1 with no units at all (nothing to test yet). */
  pValue: number;
  totalCount: number;
  expectedCounts: number[];
}

/** Chi-square goodness-of-fit test of the observed counts against the expected split. */
export function sampleRatioMismatch(input: SampleRatioInput): SampleRatioResult {
  const { counts, weights } = parseWith(sampleRatioInputSchema, input, 'sample-ratio check');
  const totalCount = counts.reduce((sum, count) => sum + count, 0);
  const totalWeight = weights.reduce((sum, weight) => sum + weight, 0);
  const expectedCounts = weights.map((weight) => (weight / totalWeight) * totalCount);
  const degreesOfFreedom = counts.length - 1;
  if (totalCount === 0) return { chiSquare: 0, degreesOfFreedom, pValue: 1, totalCount, expectedCounts };
  let chiSquare = 0;
  counts.forEach((observed, index) => {
    const expected = expectedCounts[index] as number;
    chiSquare += (observed - expected) ** 2 / expected;
  });
  return { chiSquare, degreesOfFreedom, pValue: chiSquareSf(chiSquare, degreesOfFreedom), totalCount, expectedCounts };
}

export type SampleRatioVerdict =
  | { accepted: true; check: SampleRatioResult }
  | { accepted: false; reason: 'sample_ratio_mismatch'; message: string; check: SampleRatioResult };

/** Accepts a result as evidence only when its split matches the expected one (p >= 0.001). */
export function sampleRatioVerdict(
  input: SampleRatioInput,
  threshold: number = srmPValueThreshold,
): SampleRatioVerdict {
  const check = sampleRatioMismatch(input);
  if (check.pValue >= threshold) return { accepted: true, check };
  const observed = input.counts.join(' / ');
  const expected = check.expectedCounts.map((count) => count.toFixed(1)).join(' / ');
  return {
    accepted: false,
    reason: 'sample_ratio_mismatch',
    message:
      `sample-ratio mismatch: observed ${observed} units against an expected ${expected} ` +
      `(chi-square ${check.chiSquare.toFixed(2)}, p = ${check.pValue.toExponential(2)} < ${threshold}); ` +
      'assignment or tracking is broken, so this result is not evidence',
    check,
  };
}
