import { describe, expect, it } from 'vitest';
import fixture from './fixtures/gbstats-cases.json';
import { bayesianTest } from './bayesian';
import type { ComparisonInput } from './comparison';
import { expectClose } from './test-kit';
import { frequentistTest } from './frequentist';
import { sampleRatioMismatch } from './sample-ratio-mismatch';

/**
 * Tolerances: the arithmetic is gbstats', so estimates agree to rounding. P-values allow 1e-9
 * relative (Student t past ν = 1e5, see distributions.ts) plus 1e-15 absolute, because gbstats
 * takes 1 - CDF and keeps no digits below about 1e-16 (it reports 0 where we give 1e-40).
 */
const estimate = { relative: 1e-10, absolute: 1e-15 };
const probability = { relative: 1e-9, absolute: 1e-15 };

type Case = (typeof fixture.cases)[number];

function comparisonOf({ input }: Case): ComparisonInput {
  return {
    control: input.control as ComparisonInput['control'],
    treatment: input.treatment as ComparisonInput['treatment'],
    differenceType: input.differenceType as 'relative' | 'absolute',
    higherIsBetter: input.higherIsBetter,
  };
}

const cases = fixture.cases.map((testCase) => [testCase.name, testCase] as const);

describe('the A/B statistics equal gbstats 0.8.0 on cases it computed (fixtures/gbstats-cases.py)', () => {
  it('was produced by gbstats 0.8.0', () => {
    expect(fixture.producedBy).toMatch(/^gbstats 0\.8\.0 /);
    expect(fixture.cases.length).toBeGreaterThanOrEqual(15);
  });

  it.each(cases)('frequentist: %s', (_name, testCase) => {
    const result = frequentistTest(comparisonOf(testCase));
    if (result.status !== 'ok') throw new Error(`inconclusive: ${result.message}`);
    const gb = testCase.gbstats;
    expectClose(result.control.mean, gb.control.mean, 'control mean', estimate);
    expectClose(result.control.variance, gb.control.variance, 'control variance', estimate);
    expectClose(result.treatment.mean, gb.treatment.mean, 'treatment mean', estimate);
    expectClose(result.treatment.variance, gb.treatment.variance, 'treatment variance', estimate);
    expectClose(result.effect, gb.twoSided.expected, 'effect', estimate);
    expectClose(result.standardError, gb.twoSided.stddev, 'standard error', estimate);
    const width = { absolute: 1e-9 * result.standardError };
    if (testCase.input.control.kind === 'binomial') {
      // Two-proportion z-test: the normal distribution on gbstats' own estimate and standard error.
      const reference = testCase.normalReference as NonNullable<Case['normalReference']>;
      expect(result.distribution).toBe('normal');
      expectClose(result.pValueTwoSided, reference.pValueTwoSided, 'two-sided p', probability);
      expectClose(result.pValueTreatmentGreater, reference.pValueTreatmentGreater, 'p (greater)', probability);
      expectClose(result.pValueTreatmentLesser, reference.pValueTreatmentLesser, 'p (lesser)', probability);
      expectClose(result.interval.lower, reference.ci[0] as number, 'interval lower', width);
      expectClose(result.interval.upper, reference.ci[1] as number, 'interval upper', width);
      expectClose(result.oneSided.lowerBound, reference.lowerBound, 'one-sided bound', width);
      // gbstats keeps Welch's t here; with hundreds of units the two differ by O(1/n).
      expectClose(result.pValueTwoSided, gb.twoSided.pValue, 'two-sided p against gbstats t', { relative: 0.02 });
      return;
    }
    expect(result.distribution).toBe('student-t');
    expectClose(result.degreesOfFreedom, gb.twoSided.dof, 'Welch degrees of freedom', estimate);
    expectClose(result.pValueTwoSided, gb.twoSided.pValue, 'two-sided p', probability);
    expectClose(result.pValueTreatmentGreater, gb.treatmentGreater.pValue, 'p (treatment greater)', probability);
    expectClose(result.pValueTreatmentLesser, gb.treatmentLesser.pValue, 'p (treatment lesser)', probability);
    expectClose(result.interval.lower, gb.twoSided.ci[0] as number, 'interval lower', width);
    expectClose(result.interval.upper, gb.twoSided.ci[1] as number, 'interval upper', width);
    expectClose(result.oneSided.lowerBound, gb.treatmentGreater.lowerBound as number, 'one-sided lower', width);
    // gbstats 0.8.0's OneSidedTreatmentLesserTTest returns [-inf, estimate - width]: the upper bound
    // of a one-sided interval is estimate + width, the mirror image of its (correct) lower bound.
    const gbstatsLesserBound = gb.treatmentLesser.upperBound as number;
    expectClose(result.oneSided.upperBound, 2 * gb.twoSided.expected - gbstatsLesserBound, 'one-sided upper', width);
  });

  it.each(cases)('Bayesian: %s', (_name, testCase) => {
    const prior = testCase.input.prior ?? undefined;
    const result = bayesianTest({ ...comparisonOf(testCase), prior });
    if (result.status !== 'ok') throw new Error(`inconclusive: ${result.message}`);
    const gb = testCase.gbstats.bayesian;
    expect(result.prior).toBe(prior === undefined ? 'flat' : 'normal');
    expectClose(result.posteriorMean, gb.expected, 'posterior mean', estimate);
    expectClose(result.posteriorStandardDeviation, gb.stddev, 'posterior standard deviation', estimate);
    const width = { absolute: 1e-9 * result.posteriorStandardDeviation };
    expectClose(result.credibleInterval.lower, gb.ci[0] as number, 'credible interval lower', width);
    expectClose(result.credibleInterval.upper, gb.ci[1] as number, 'credible interval upper', width);
    // gbstats' chance to win is 1 - a tail for lower-is-better metrics: compare the smaller tail.
    expectClose(result.chanceToWin, gb.chanceToWin, 'chance to win', probability);
    expectClose(1 - result.chanceToWin, 1 - gb.chanceToWin, 'chance to lose', probability);
    expectClose(result.risk.control, gb.risk[0] as number, 'risk of shipping control', {
      relative: 1e-8,
      absolute: 1e-15,
    });
    expectClose(result.risk.treatment, gb.risk[1] as number, 'risk of shipping treatment', {
      relative: 1e-8,
      absolute: 1e-15,
    });
  });

  it.each(fixture.sampleRatio.map((testCase) => [testCase.name, testCase] as const))(
    'sample-ratio mismatch: %s',
    (_name, { counts, weights, pValue }) => {
      expectClose(sampleRatioMismatch({ counts, weights }).pValue, pValue, 'SRM p-value', { relative: 1e-12 });
    },
  );
});
