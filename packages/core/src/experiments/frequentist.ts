import { invariant } from '../invariant';
import {
  observeEffect,
  parseComparison,
  type ComparisonInput,
  type DifferenceType,
  type Inconclusive,
  type ObservedEffect,
} from './comparison';
import type { MetricMoments } from './metric-summary';
import { studentTCdf, studentTQuantile } from './numerics/distributions';

/**
 * The frequentist test of one comparison: Welch's unequal-variance t-test (Welch–Satterthwaite
 * degrees of freedom) for mean and ratio metrics, a two-proportion z-test (unpooled variance) for
 * binomial ones, both on the relative lift with its delta-method variance (or on the absolute
 * difference). A port of gbstats 0.8.0 frequentist/tests.py (TwoSidedTTest,
 * OneSidedTreatmentGreaterTTest, OneSidedTreatmentLesserTTest); it differs in three places only:
 * binomial metrics use the normal distribution where gbstats keeps Welch's t (the two agree to
 * O(1/n)), tails are computed directly instead of as 1 - CDF, and degenerate data is reported as
 * inconclusive with its reason instead of as p = 1.
 */
export interface FrequentistResult {
  status: 'ok';
  differenceType: DifferenceType;
  /** Relative lift (treatment / control - 1) or absolute difference, per differenceType. */
  effect: number;
  /** Standard error of `effect`. */
  standardError: number;
  /** treatment mean - control mean. */
  absoluteDifference: number;
  control: MetricMoments;
  treatment: MetricMoments;
  /** effect / standardError: t for Welch, z for the two-proportion test. */
  statistic: number;
  distribution: 'student-t' | 'normal';
  /** Welch–Satterthwaite degrees of freedom; Infinity for the normal. */
  degreesOfFreedom: number;
  /** H1: the effect is not zero. */
  pValueTwoSided: number;
  /** H1: treatment mean above control mean (gbstats' OneSidedTreatmentGreaterTTest). */
  pValueTreatmentGreater: number;
  /** H1: treatment mean below control mean. */
  pValueTreatmentLesser: number;
  /** The one-sided p-value in the direction that is better for this metric (higherIsBetter). */
  pValueTreatmentBetter: number;
  /** Two-sided (1 - alpha) confidence interval on `effect`. */
  interval: { lower: number; upper: number };
  /** One-sided (1 - alpha) bounds: effect above `lowerBound` (treatment greater), below `upperBound`. */
  oneSided: { lowerBound: number; upperBound: number };
  alpha: number;
}

/** Runs the frequentist test on a comparison; throws a ValidationError for malformed input. */
export function frequentistTest(input: ComparisonInput): FrequentistResult | Inconclusive {
  const comparison = parseComparison(input);
  const observed = observeEffect(comparison);
  if (observed.status === 'inconclusive') return observed;
  return testObservedEffect(observed, comparison.alpha, comparison.higherIsBetter);
}

/** Welch–Satterthwaite degrees of freedom from the per-unit variances (as gbstats: unscaled even for relative effects). */
export function welchDegreesOfFreedom(control: MetricMoments, treatment: MetricMoments): number {
  const controlTerm = control.variance / control.count;
  const treatmentTerm = treatment.variance / treatment.count;
  return (
    (controlTerm + treatmentTerm) ** 2 /
    (treatmentTerm ** 2 / (treatment.count - 1) + controlTerm ** 2 / (control.count - 1))
  );
}

function testObservedEffect(observed: ObservedEffect, alpha: number, higherIsBetter: boolean): FrequentistResult {
  const standardError = Math.sqrt(observed.effectVariance);
  invariant(standardError > 0 && Number.isFinite(standardError), 'a conclusive effect has a positive standard error');
  const normal = observed.kind === 'binomial';
  const degreesOfFreedom = normal ? Infinity : welchDegreesOfFreedom(observed.control, observed.treatment);
  const statistic = observed.effect / standardError;
  // Both tails directly, so neither loses its digits to a subtraction from 1.
  const pValueTreatmentLesser = studentTCdf(statistic, degreesOfFreedom);
  const pValueTreatmentGreater = studentTCdf(-statistic, degreesOfFreedom);
  const pValueTwoSided = Math.min(1, 2 * Math.min(pValueTreatmentLesser, pValueTreatmentGreater));
  const twoSidedWidth = studentTQuantile(1 - alpha / 2, degreesOfFreedom) * standardError;
  const oneSidedWidth = studentTQuantile(1 - alpha, degreesOfFreedom) * standardError;
  return {
    status: 'ok',
    differenceType: observed.differenceType,
    effect: observed.effect,
    standardError,
    absoluteDifference: observed.absoluteDifference,
    control: observed.control,
    treatment: observed.treatment,
    statistic,
    distribution: normal ? 'normal' : 'student-t',
    degreesOfFreedom,
    pValueTwoSided,
    pValueTreatmentGreater,
    pValueTreatmentLesser,
    pValueTreatmentBetter: higherIsBetter ? pValueTreatmentGreater : pValueTreatmentLesser,
    interval: { lower: observed.effect - twoSidedWidth, upper: observed.effect + twoSidedWidth },
    oneSided: { lowerBound: observed.effect - oneSidedWidth, upperBound: observed.effect + oneSidedWidth },
    alpha,
  };
}
