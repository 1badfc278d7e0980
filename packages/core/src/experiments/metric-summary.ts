import { z } from 'zod';
import { invariant } from '../invariant';

/**
 * One variation's summary statistics for one metric, in the shape GrowthBook's engine (gbstats)
 * takes: sums over the units (users) in the variation, never the raw values. `mean` metrics carry
 * the sum and sum of squares of each unit's value; `binomial` metrics the number of units that
 * converted; `ratio` metrics (numerator over denominator, both summed per unit: revenue per
 * session) add the denominator's sums and the sum of each unit's numerator times denominator.
 */

/** Relative slack on the Cauchy–Schwarz checks below, for sums rounded by the platform that computed them. */
export const summaryRoundingTolerance = 1e-9;

const count = z
  .number()
  .int('must be a whole number of units')
  .min(0, 'must not be negative')
  .max(Number.MAX_SAFE_INTEGER, 'is too large to count exactly');
const finite = z.number().refine(Number.isFinite, 'must be a finite number');
const squares = finite.refine((value) => value >= 0, 'must not be negative (it is a sum of squares)');

/** n·Σx² - (Σx)², the sum of squared deviations times n; negative means the sums cannot come from real values. */
function scaledSquaredDeviations(n: number, sum: number, sumSquares: number): number {
  return n * sumSquares - sum * sum;
}

function isConsistent(n: number, sum: number, sumSquares: number): boolean {
  return scaledSquaredDeviations(n, sum, sumSquares) >= -summaryRoundingTolerance * n * sumSquares;
}

function emptyMustBeZero(n: number, sums: Record<string, number>, ctx: z.RefinementCtx): boolean {
  if (n > 0) return true;
  for (const [name, value] of Object.entries(sums)) {
    if (value !== 0) ctx.addIssue({ code: 'custom', path: [name], message: 'must be 0 when count is 0 (no units)' });
  }
  return false;
}

function varianceIssue(sumName: string, squaresName: string): string {
  return (
    `${squaresName} is below ${sumName}² / count, so the values would have a negative variance: ` +
    `${squaresName} must be the sum of each unit's value squared (not the square of ${sumName})`
  );
}

export const meanMetricSummarySchema = z
  .object({ kind: z.literal('mean'), count, sum: finite, sumSquares: squares })
  .superRefine((summary, ctx) => {
    if (!emptyMustBeZero(summary.count, { sum: summary.sum, sumSquares: summary.sumSquares }, ctx)) return;
    if (!isConsistent(summary.count, summary.sum, summary.sumSquares)) {
      ctx.addIssue({ code: 'custom', path: ['sumSquares'], message: varianceIssue('sum', 'sumSquares') });
    }
  });

export const binomialMetricSummarySchema = z
  .object({
    kind: z.literal('binomial'),
    count,
    /** Units that converted. */
    sum: count,
    /** Optional: for 0/1 values it equals sum; accepted so platforms may send all three sums. */
    sumSquares: count.optional(),
  })
  .superRefine((summary, ctx) => {
    if (summary.sum > summary.count) {
      ctx.addIssue({
        code: 'custom',
        path: ['sum'],
        message: `must not exceed count (${summary.count}): a binomial metric counts units that converted`,
      });
    }
    if (summary.sumSquares !== undefined && summary.sumSquares !== summary.sum) {
      ctx.addIssue({ code: 'custom', path: ['sumSquares'], message: 'must equal sum for 0/1 values, or be left out' });
    }
  });

export const ratioMetricSummarySchema = z
  .object({
    kind: z.literal('ratio'),
    count,
    sum: finite,
    sumSquares: squares,
    denominatorSum: finite,
    denominatorSumSquares: squares,
    mainDenominatorSumProduct: finite,
  })
  .superRefine((summary, ctx) => {
    const { count: n, sum, sumSquares, denominatorSum, denominatorSumSquares, mainDenominatorSumProduct } = summary;
    const sums = { sum, sumSquares, denominatorSum, denominatorSumSquares, mainDenominatorSumProduct };
    if (!emptyMustBeZero(n, sums, ctx)) return;
    if (!(denominatorSum > 0)) {
      ctx.addIssue({
        code: 'custom',
        path: ['denominatorSum'],
        message: 'must be positive: a ratio over a zero (or negative) denominator has no mean',
      });
    }
    const numeratorOk = isConsistent(n, sum, sumSquares);
    const denominatorOk = isConsistent(n, denominatorSum, denominatorSumSquares);
    if (!numeratorOk)
      ctx.addIssue({ code: 'custom', path: ['sumSquares'], message: varianceIssue('sum', 'sumSquares') });
    if (!denominatorOk) {
      ctx.addIssue({
        code: 'custom',
        path: ['denominatorSumSquares'],
        message: varianceIssue('denominatorSum', 'denominatorSumSquares'),
      });
    }
    if (numeratorOk && denominatorOk && !isCovarianceConsistent(summary)) {
      ctx.addIssue({
        code: 'custom',
        path: ['mainDenominatorSumProduct'],
        message:
          'implies a numerator–denominator correlation beyond ±1: it must be the sum over units of numerator × denominator',
      });
    }
  });

function isCovarianceConsistent(summary: z.output<typeof ratioMetricSummarySchema>): boolean {
  const n = summary.count;
  const cross = n * summary.mainDenominatorSumProduct - summary.sum * summary.denominatorSum;
  const numerator = Math.max(0, scaledSquaredDeviations(n, summary.sum, summary.sumSquares));
  const denominator = Math.max(0, scaledSquaredDeviations(n, summary.denominatorSum, summary.denominatorSumSquares));
  const slack = summaryRoundingTolerance * n * Math.sqrt(summary.sumSquares * summary.denominatorSumSquares);
  return Math.abs(cross) <= Math.sqrt(numerator * denominator) + slack;
}

/** A variation's summary statistics for one metric; `kind` says which sums it carries. */
export const metricSummarySchema = z.discriminatedUnion('kind', [
  meanMetricSummarySchema,
  binomialMetricSummarySchema,
  ratioMetricSummarySchema,
]);
export type MetricSummary = z.output<typeof metricSummarySchema>;
export type MetricKind = MetricSummary['kind'];

/** Per-unit mean and variance of a variation, the two numbers every test below starts from. */
export interface MetricMoments {
  count: number;
  mean: number;
  /** Variance of one unit's value: sample variance (n - 1) for means, p(1 - p) for proportions, delta method for ratios. */
  variance: number;
}

/** Sample variance from the sums; 0 below two units; tiny negatives from rounding are 0. */
function sampleVariance(n: number, sum: number, sumSquares: number): number {
  if (n <= 1) return 0;
  return Math.max(0, (sumSquares - (sum * sum) / n) / (n - 1));
}

/**
 * Mean and per-unit variance of a validated summary, as gbstats' SampleMeanStatistic,
 * ProportionStatistic and RatioStatistic compute them (gbstats 0.8.0, models/statistics.py).
 */
export function metricMoments(summary: MetricSummary): MetricMoments {
  const n = summary.count;
  if (n === 0) return { count: 0, mean: 0, variance: 0 };
  switch (summary.kind) {
    case 'mean':
      return { count: n, mean: summary.sum / n, variance: sampleVariance(n, summary.sum, summary.sumSquares) };
    case 'binomial': {
      const proportion = summary.sum / n;
      return { count: n, mean: proportion, variance: proportion * (1 - proportion) };
    }
    case 'ratio':
      return ratioMoments(summary);
  }
}

/** Ratio of sums with the delta-method variance of one unit's contribution (Deng et al., KDD 2018, §3). */
function ratioMoments(summary: z.output<typeof ratioMetricSummarySchema>): MetricMoments {
  const n = summary.count;
  invariant(summary.denominatorSum > 0, 'a validated ratio summary has a positive denominator');
  const numeratorMean = summary.sum / n;
  const denominatorMean = summary.denominatorSum / n;
  const numeratorVariance = sampleVariance(n, summary.sum, summary.sumSquares);
  const denominatorVariance = sampleVariance(n, summary.denominatorSum, summary.denominatorSumSquares);
  const covariance =
    n <= 1 ? 0 : (summary.mainDenominatorSumProduct - (summary.sum * summary.denominatorSum) / n) / (n - 1);
  const variance =
    n <= 1
      ? 0
      : numeratorVariance / denominatorMean ** 2 -
        (2 * covariance * numeratorMean) / denominatorMean ** 3 +
        (numeratorMean ** 2 * denominatorVariance) / denominatorMean ** 4;
  return { count: n, mean: summary.sum / summary.denominatorSum, variance: Math.max(0, variance) };
}
