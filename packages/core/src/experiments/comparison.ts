import { z } from 'zod';
import { parseWith } from '../parse-with';
import { metricMoments, metricSummarySchema, type MetricKind, type MetricMoments } from './metric-summary';

/**
 * What the frequentist and Bayesian tests share: one metric, a control and a treatment variation,
 * the effect (relative lift or absolute difference) and its delta-method variance, and the cases
 * in which no honest effect can be computed.
 */

export const differenceTypes = ['relative', 'absolute'] as const;
export type DifferenceType = (typeof differenceTypes)[number];

/** The two variations compared, for one metric. */
export const comparisonSchema = z
  .object({
    control: metricSummarySchema,
    treatment: metricSummarySchema,
    /** false for metrics where lower wins (latency, cost, errors): gbstats' `inverse`. */
    higherIsBetter: z.boolean().default(true),
    /** relative: treatment mean / control mean - 1 (gbstats' default); absolute: treatment mean - control mean. */
    differenceType: z.enum(differenceTypes).default('relative'),
    /** 1 - the interval's coverage: 0.05 gives 95 % intervals. */
    alpha: z.number().gt(0, 'must be above 0').lt(0.5, 'must be below 0.5').default(0.05),
  })
  .refine((input) => input.control.kind === input.treatment.kind, {
    message: 'control and treatment must summarise the same kind of metric (mean, binomial or ratio)',
    path: ['treatment', 'kind'],
  });
export type ComparisonInput = z.input<typeof comparisonSchema>;
export type Comparison = z.output<typeof comparisonSchema>;

/** Why a comparison gives no effect; each is a property of the data, not a malformed request. */
export type InconclusiveReason = 'too_few_units' | 'baseline_zero' | 'baseline_negative' | 'zero_variance';

export interface Inconclusive {
  status: 'inconclusive';
  reason: InconclusiveReason;
  /** Says what the data lacks, for the evidence shown to people. */
  message: string;
}

/** The observed effect of one comparison, before any test or prior. */
export interface ObservedEffect {
  status: 'observed';
  kind: MetricKind;
  differenceType: DifferenceType;
  control: MetricMoments;
  treatment: MetricMoments;
  /** Relative lift or absolute difference, per differenceType. */
  effect: number;
  /** Variance of `effect`: delta method for the relative lift (gbstats' frequentist_variance). */
  effectVariance: number;
  /** treatment mean - control mean, whatever differenceType says. */
  absoluteDifference: number;
}

/** Validates a comparison; throws a ValidationError that names every field to fix. */
export function parseComparison(input: unknown): Comparison {
  return parseWith(comparisonSchema, input, 'A/B comparison');
}

/**
 * The effect and its variance, or why there is none. Means and variances as gbstats' statistics;
 * the relative variance is the delta method of gbstats 0.8.0 frequentist/tests.py:
 * var_b / (μ_a² n_b) + var_a μ_b² / (μ_a⁴ n_a).
 */
export function observeEffect(comparison: Comparison): ObservedEffect | Inconclusive {
  const control = metricMoments(comparison.control);
  const treatment = metricMoments(comparison.treatment);
  const refusal = refuseDegenerate(comparison.differenceType, control, treatment);
  if (refusal) return refusal;
  const relative = comparison.differenceType === 'relative';
  const absoluteDifference = treatment.mean - control.mean;
  const effect = relative ? absoluteDifference / control.mean : absoluteDifference;
  const effectVariance = relative
    ? treatment.variance / (control.mean ** 2 * treatment.count) +
      (control.variance * treatment.mean ** 2) / (control.mean ** 4 * control.count)
    : treatment.variance / treatment.count + control.variance / control.count;
  return {
    status: 'observed',
    kind: comparison.control.kind,
    differenceType: comparison.differenceType,
    control,
    treatment,
    effect,
    effectVariance,
    absoluteDifference,
  };
}

function refuseDegenerate(
  differenceType: DifferenceType,
  control: MetricMoments,
  treatment: MetricMoments,
): Inconclusive | undefined {
  if (control.count < 2 || treatment.count < 2) {
    return inconclusive(
      'too_few_units',
      `each variation needs at least 2 units to estimate a variance (control has ${control.count}, treatment ${treatment.count})`,
    );
  }
  if (differenceType === 'relative' && control.mean === 0) {
    return inconclusive('baseline_zero', 'the control mean is 0, so a relative lift is undefined');
  }
  if (differenceType === 'relative' && control.mean < 0) {
    // gbstats divides anyway, which turns the lift's sign around: a treatment that is better reads as worse.
    return inconclusive(
      'baseline_negative',
      'the control mean is negative, so a relative lift would have its sign reversed; use the absolute difference',
    );
  }
  if (!(control.variance > 0) || !(treatment.variance > 0)) {
    return inconclusive(
      'zero_variance',
      'a variation has zero variance (every unit has the same value), so the effect has no standard error',
    );
  }
  return undefined;
}

function inconclusive(reason: InconclusiveReason, message: string): Inconclusive {
  return { status: 'inconclusive', reason, message };
}
