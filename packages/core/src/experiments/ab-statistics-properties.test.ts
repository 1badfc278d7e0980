import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bayesianTest, type BayesianResult } from './bayesian';
import type { ComparisonInput, Inconclusive } from './comparison';
import { frequentistTest, type FrequentistResult } from './frequentist';
import type { MetricSummary } from './metric-summary';
import { sampleRatioMismatch } from './sample-ratio-mismatch';

type Moments = { count: number; mean: number; sd: number };

/** Sums a platform would send for units with this count, mean and standard deviation. */
function meanSummary({ count, mean, sd }: Moments): MetricSummary {
  return { kind: 'mean', count, sum: count * mean, sumSquares: (count - 1) * sd * sd + count * mean * mean };
}

function ratioSummary(numerator: Moments, denominator: Moments, correlation: number): MetricSummary {
  const n = numerator.count;
  return {
    kind: 'ratio',
    count: n,
    sum: n * numerator.mean,
    sumSquares: (n - 1) * numerator.sd ** 2 + n * numerator.mean ** 2,
    denominatorSum: n * denominator.mean,
    denominatorSumSquares: (n - 1) * denominator.sd ** 2 + n * denominator.mean ** 2,
    mainDenominatorSumProduct:
      (n - 1) * correlation * numerator.sd * denominator.sd + n * numerator.mean * denominator.mean,
  };
}

const count = fc.integer({ min: 5, max: 1_000_000 });
// Standard deviations at least 1/1000 of the mean: beyond that, Σx² - (Σx)²/n cancels below float precision.
const moments = fc
  .record({
    count,
    mean: fc.double({ min: 0.01, max: 1e4, noNaN: true }),
    spread: fc.double({ min: 1e-3, max: 10, noNaN: true }),
  })
  .map(({ count: n, mean, spread }): Moments => ({ count: n, mean, sd: mean * spread }));
const meanArm = moments.map(meanSummary);
const binomialArm = fc
  .record({ count, share: fc.double({ min: 0.001, max: 0.999, noNaN: true }) })
  .map(({ count: n, share }): MetricSummary => ({
    kind: 'binomial',
    count: n,
    sum: Math.max(1, Math.min(n - 1, Math.round(n * share))),
  }));
const ratioArm = fc
  .record({ n: count, m: moments, d: moments, correlation: fc.double({ min: -0.9, max: 0.9, noNaN: true }) })
  .map(({ n, m, d, correlation }) => ratioSummary({ ...m, count: n }, { ...d, count: n }, correlation));
const pair = (arm: fc.Arbitrary<MetricSummary>) => fc.record({ control: arm, treatment: arm });
const anyPair = fc.oneof(pair(meanArm), pair(binomialArm), pair(ratioArm));
const differenceType = fc.constantFrom('relative' as const, 'absolute' as const);

function ok<T extends { status: 'ok' }>(result: T | Inconclusive): T {
  if (result.status !== 'ok') throw new Error(`inconclusive: ${result.message}`);
  return result;
}
const frequentist = (input: ComparisonInput): FrequentistResult => ok(frequentistTest(input));
const bayesian = (input: Parameters<typeof bayesianTest>[0]): BayesianResult => ok(bayesianTest(input));

function expectRelativelyClose(actual: number, expected: number, relative: number): void {
  expect(Math.abs(actual - expected)).toBeLessThanOrEqual(relative * Math.abs(expected) + 1e-300);
}

describe('A/B statistics hold their invariants for any summary statistics', () => {
  it('p-values and chance to win lie in [0, 1]; intervals hold the estimate', () => {
    fc.assert(
      fc.property(anyPair, differenceType, fc.boolean(), ({ control, treatment }, type, higherIsBetter) => {
        const input = { control, treatment, differenceType: type, higherIsBetter };
        const test = frequentist(input);
        for (const p of [test.pValueTwoSided, test.pValueTreatmentGreater, test.pValueTreatmentLesser]) {
          expect(p).toBeGreaterThanOrEqual(0);
          expect(p).toBeLessThanOrEqual(1);
        }
        expect(test.interval.lower).toBeLessThanOrEqual(test.effect);
        expect(test.interval.upper).toBeGreaterThanOrEqual(test.effect);
        const posterior = bayesian({ ...input, prior: { mean: 0, standardDeviation: 0.3 } });
        expect(posterior.chanceToWin).toBeGreaterThanOrEqual(0);
        expect(posterior.chanceToWin).toBeLessThanOrEqual(1);
        expect(posterior.credibleInterval.lower).toBeLessThanOrEqual(posterior.credibleInterval.upper);
      }),
      { numRuns: 300 },
    );
  });

  it('swapping control and treatment flips the sign of the absolute effect and trades the one-sided p-values', () => {
    fc.assert(
      fc.property(anyPair, ({ control, treatment }) => {
        const forward = frequentist({ control, treatment, differenceType: 'absolute' });
        const backward = frequentist({ control: treatment, treatment: control, differenceType: 'absolute' });
        expect(backward.effect === -forward.effect).toBe(true); // === so that 0 and -0 are equal
        expect(backward.absoluteDifference === -forward.absoluteDifference).toBe(true);
        expectRelativelyClose(backward.pValueTwoSided, forward.pValueTwoSided, 1e-12);
        expectRelativelyClose(backward.pValueTreatmentGreater, forward.pValueTreatmentLesser, 1e-12);
        const ahead = bayesian({ control, treatment, differenceType: 'absolute' });
        const behind = bayesian({ control: treatment, treatment: control, differenceType: 'absolute' });
        expect(behind.posteriorMean === -ahead.posteriorMean).toBe(true);
        expect(Math.abs(behind.chanceToWin - (1 - ahead.chanceToWin))).toBeLessThanOrEqual(1e-12);
      }),
      { numRuns: 200 },
    );
  });

  it("scaling a metric's values (cents for dollars) changes neither the p-values nor the relative lift", () => {
    const scale = fc.double({ min: 1e-3, max: 1e3, noNaN: true });
    const scaled = (summary: MetricSummary, c: number, d: number): MetricSummary => {
      if (summary.kind === 'mean') return { ...summary, sum: summary.sum * c, sumSquares: summary.sumSquares * c * c };
      if (summary.kind === 'binomial') return summary;
      return {
        ...summary,
        sum: summary.sum * c,
        sumSquares: summary.sumSquares * c * c,
        denominatorSum: summary.denominatorSum * d,
        denominatorSumSquares: summary.denominatorSumSquares * d * d,
        mainDenominatorSumProduct: summary.mainDenominatorSumProduct * c * d,
      };
    };
    fc.assert(
      fc.property(fc.oneof(pair(meanArm), pair(ratioArm)), scale, scale, ({ control, treatment }, c, d) => {
        const original = frequentist({ control, treatment });
        const rescaled = frequentist({ control: scaled(control, c, d), treatment: scaled(treatment, c, d) });
        expect(Math.abs(rescaled.effect - original.effect)).toBeLessThanOrEqual(1e-9 * (1 + Math.abs(original.effect)));
        expectRelativelyClose(rescaled.pValueTwoSided, original.pValueTwoSided, 1e-6);
        expectRelativelyClose(rescaled.pValueTreatmentGreater, original.pValueTreatmentGreater, 1e-6);
        expectRelativelyClose(rescaled.pValueTreatmentLesser, original.pValueTreatmentLesser, 1e-6);
      }),
      { numRuns: 200 },
    );
  });

  it('chance to win never falls as the treatment mean rises (flat prior; positive means for the relative lift)', () => {
    // For the relative lift the delta-method variance grows with the treatment mean; the
    // standardized lift still rises with it while both means are positive.
    fc.assert(
      fc.property(
        moments,
        moments,
        fc.double({ min: 1e-6, max: 2, noNaN: true }),
        differenceType,
        fc.boolean(),
        (a, b, step, type, higherIsBetter) => {
          const control = meanSummary(a);
          const lower = meanSummary(b);
          const higher = meanSummary({ ...b, mean: b.mean * (1 + step) });
          const input = { control, differenceType: type, higherIsBetter };
          const before = bayesian({ ...input, treatment: lower }).chanceToWin;
          const after = bayesian({ ...input, treatment: higher }).chanceToWin;
          if (higherIsBetter) expect(after).toBeGreaterThanOrEqual(before - 1e-12);
          else expect(after).toBeLessThanOrEqual(before + 1e-12);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('the sample-ratio p-value is 1 for a split exactly as expected', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 100 }), { minLength: 2, maxLength: 10 }),
        fc.integer({ min: 1, max: 10_000 }),
        (weights, perWeight) => {
          const counts = weights.map((weight) => weight * perWeight);
          expect(sampleRatioMismatch({ counts, weights }).pValue).toBeGreaterThanOrEqual(1 - 1e-12);
        },
      ),
      { numRuns: 200 },
    );
  });
});
