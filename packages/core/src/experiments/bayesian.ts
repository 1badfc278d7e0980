import { z } from 'zod';
import { invariant } from '../invariant';
import { parseWith } from '../parse-with';
import {
  observeEffect,
  parseComparison,
  type ComparisonInput,
  type DifferenceType,
  type Inconclusive,
} from './comparison';
import { normalCdf, normalPdf, normalQuantile } from './numerics/distributions';

/**
 * GrowthBook's current Bayesian engine: gbstats 0.8.0 bayesian/tests.py, EffectBayesianABTest.
 * The data give a Gaussian likelihood for the effect (relative lift with its delta-method variance,
 * or absolute difference); the prior on the effect is flat (improper) or normal. A normal prior is
 * stated on the relative effect (gbstats' default prior_type) and rescaled by the control mean when
 * the effect is absolute, as gbstats does. Chance to win is the posterior mass on the better side
 * of zero; risk is the expected loss of choosing each variation.
 */

/** A normal prior on the relative effect: mean 0 and standard deviation 0.3 say "lifts beyond ±60 % are rare". */
export const effectPriorSchema = z.object({
  mean: z.number().refine(Number.isFinite, 'must be a finite number'),
  standardDeviation: z.number().gt(0, 'must be positive').refine(Number.isFinite, 'must be a finite number'),
});
export type EffectPrior = z.output<typeof effectPriorSchema>;

export interface BayesianResult {
  status: 'ok';
  differenceType: DifferenceType;
  prior: 'flat' | 'normal';
  /** The data's estimate of the effect before the prior (relative lift or absolute difference). */
  observedEffect: number;
  posteriorMean: number;
  posteriorVariance: number;
  posteriorStandardDeviation: number;
  /** Central (1 - alpha) credible interval on the effect. */
  credibleInterval: { lower: number; upper: number };
  /** Posterior probability that the treatment is better: effect above 0, or below 0 when lower is better. */
  chanceToWin: number;
  /** Expected loss (in effect units) of shipping control, and of shipping treatment, as gbstats' get_risk. */
  risk: { control: number; treatment: number };
  alpha: number;
}

/** A comparison and, optionally, a normal prior on the relative effect. */
export type BayesianInput = ComparisonInput & { prior?: EffectPrior | undefined };

const priorOnlySchema = z.object({ prior: effectPriorSchema.optional() });

/** Posterior of the effect for one comparison; no `prior` means a flat one (gbstats' default, proper = false). */
export function bayesianTest(input: BayesianInput): BayesianResult | Inconclusive {
  const { prior, ...rest } = input;
  const comparison = parseComparison(rest);
  const effectPrior = parseWith(priorOnlySchema, { prior }, 'Bayesian comparison').prior;
  const observed = observeEffect(comparison);
  if (observed.status === 'inconclusive') return observed;
  const dataPrecision = 1 / observed.effectVariance;
  invariant(dataPrecision > 0 && Number.isFinite(dataPrecision), 'a conclusive effect has a positive finite variance');

  let posteriorMean = observed.effect;
  let posteriorPrecision = dataPrecision;
  if (effectPrior !== undefined) {
    // gbstats rescales a relative prior to the absolute scale by |control mean| (its variance by the mean squared).
    const scale = comparison.differenceType === 'relative' ? 1 : Math.abs(observed.control.mean);
    const priorMean = effectPrior.mean * scale;
    const priorPrecision = 1 / (effectPrior.standardDeviation * scale) ** 2;
    posteriorPrecision = dataPrecision + priorPrecision;
    posteriorMean = (observed.effect * dataPrecision + priorMean * priorPrecision) / posteriorPrecision;
  }
  const posteriorVariance = 1 / posteriorPrecision;
  const posteriorStandardDeviation = Math.sqrt(posteriorVariance);
  const z = normalQuantile(1 - comparison.alpha / 2);
  const standardized = posteriorMean / posteriorStandardDeviation;
  const risk = effectRisk(posteriorMean, posteriorStandardDeviation);
  return {
    status: 'ok',
    differenceType: comparison.differenceType,
    prior: effectPrior === undefined ? 'flat' : 'normal',
    observedEffect: observed.effect,
    posteriorMean,
    posteriorVariance,
    posteriorStandardDeviation,
    credibleInterval: {
      lower: posteriorMean - z * posteriorStandardDeviation,
      upper: posteriorMean + z * posteriorStandardDeviation,
    },
    chanceToWin: comparison.higherIsBetter ? normalCdf(standardized) : normalCdf(-standardized),
    // For lower-is-better metrics the losses trade places, as in gbstats.
    risk: comparison.higherIsBetter ? risk : { control: risk.treatment, treatment: risk.control },
    alpha: comparison.alpha,
  };
}

/**
 * gbstats' get_risk in closed form: with X ~ N(μ, σ²) the effect, shipping control loses
 * E[max(X, 0)] = μΦ(μ/σ) + σφ(μ/σ), shipping treatment loses E[max(-X, 0)] = σφ(μ/σ) - μΦ(-μ/σ).
 */
export function effectRisk(mean: number, standardDeviation: number): { control: number; treatment: number } {
  invariant(standardDeviation > 0, 'risk needs a positive standard deviation');
  const z = mean / standardDeviation;
  const density = standardDeviation * normalPdf(z);
  return {
    control: Math.max(0, mean * normalCdf(z) + density),
    treatment: Math.max(0, density - mean * normalCdf(-z)),
  };
}
