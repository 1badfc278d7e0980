import {
  bayesianTest,
  frequentistTest,
  invariant,
  sampleRatioVerdict,
  type AbEvidencePayload,
  type AbVariation,
} from '@tokenwise/core';
import type { JsonObject } from '@tokenwise/plugin-sdk';
import type { ExperimentConfig } from './config';

/** Confidence never exceeds this when the 95 % interval includes zero: the data cannot tell the variants apart. */
export const confidenceIncludingZeroMax = 0.2;
/** Confidence at least this when the interval excludes zero (the settlement policy's default minConfidence is 0.5). */
export const confidenceExcludingZeroMin = 0.5;
/** Score of an inconclusive comparison: no information either way. */
export const inconclusiveScore = 0.5;

/** A result read for one request: scored, or refused as evidence (a later result may still come). */
export type Judgement =
  | { kind: 'scored'; score: number; confidence: number; facts: JsonObject; rationale: string }
  | { kind: 'refused'; reason: string; facts: JsonObject };

/**
 * Confidence from the interval's half-width measured against the effect's distance from zero
 * (half-width / |centre| = z / |t|): above `confidenceExcludingZeroMin` and towards 1 as the interval
 * narrows around an effect that excludes zero, at most `confidenceIncludingZeroMax` and towards 0
 * as an interval that includes zero widens.
 */
export function intervalConfidence(interval: { lower: number; upper: number }): number {
  invariant(interval.upper >= interval.lower, 'an interval has upper >= lower');
  const centre = (interval.lower + interval.upper) / 2;
  const halfWidth = (interval.upper - interval.lower) / 2;
  // Which side of zero is read from the bounds themselves: the ratio may round either way at the edge.
  if (includesZero(interval)) {
    if (centre === 0) return 0;
    return confidenceIncludingZeroMax * Math.min(1, Math.abs(centre) / halfWidth);
  }
  if (halfWidth === 0) return 1;
  const ratio = Math.min(1, halfWidth / Math.abs(centre));
  return confidenceExcludingZeroMin + (1 - confidenceExcludingZeroMin) * (1 - ratio);
}

const variation = (payload: AbEvidencePayload, key: string): AbVariation => {
  const found = payload.variations.find((entry) => entry.key === key);
  invariant(found !== undefined, `a selected result has variation "${key}"`);
  return found;
};

/** Reads the selected result for the request's variant against the control, by the experiment's config. */
export function judgeResult(payload: AbEvidencePayload, config: ExperimentConfig): Judgement {
  const control = variation(payload, config.controlKey);
  const treatment = variation(payload, payload.variantKey);
  const srm = sampleRatioVerdict({
    counts: payload.variations.map((entry) => entry.summary.count),
    weights: payload.variations.map((entry) => entry.weight ?? 1),
  });
  const facts: JsonObject = {
    resultId: payload.resultId,
    experimentKey: payload.experimentKey,
    variantKey: payload.variantKey,
    controlKey: config.controlKey,
    metricId: payload.metricId,
    metricKind: control.summary.kind,
    higherIsBetter: payload.higherIsBetter,
    method: config.method,
    srmPValue: srm.check.pValue,
    units: { control: control.summary.count, variant: treatment.summary.count, total: srm.check.totalCount },
  };
  if (!srm.accepted) return { kind: 'refused', reason: srm.message, facts };
  const fewest = Math.min(control.summary.count, treatment.summary.count);
  if (fewest < config.minUnitsPerVariation) {
    return {
      kind: 'refused',
      reason:
        `too few units yet: control ${control.summary.count}, variant ${treatment.summary.count}; ` +
        `the experiment's config needs ${config.minUnitsPerVariation} in each before a result is read`,
      facts,
    };
  }
  const comparison = { control: control.summary, treatment: treatment.summary, higherIsBetter: payload.higherIsBetter };
  return config.method === 'bayesian'
    ? bayesianJudgement(comparison, config, facts)
    : frequentistJudgement(comparison, facts);
}

type ComparisonOfResult = Parameters<typeof frequentistTest>[0];

function inconclusiveJudgement(message: string, reason: string, facts: JsonObject): Judgement {
  return {
    kind: 'scored',
    score: inconclusiveScore,
    confidence: 0,
    facts: { ...facts, inconclusive: reason },
    rationale: `Inconclusive: ${message}.`,
  };
}

function bayesianJudgement(comparison: ComparisonOfResult, config: ExperimentConfig, facts: JsonObject): Judgement {
  const result = bayesianTest({ ...comparison, prior: config.prior });
  if (result.status === 'inconclusive') return inconclusiveJudgement(result.message, result.reason, facts);
  const interval = result.credibleInterval;
  const confidence = intervalConfidence(interval);
  return {
    kind: 'scored',
    score: result.chanceToWin,
    confidence,
    facts: {
      ...facts,
      lift: result.posteriorMean,
      interval: { lower: interval.lower, upper: interval.upper },
      chanceToWin: result.chanceToWin,
      prior: config.prior === undefined ? 'flat' : { ...config.prior },
    },
    rationale:
      `Chance to win ${percent(result.chanceToWin)} (lift ${signedPercent(result.posteriorMean)}, ` +
      `95 % credible interval ${signedPercent(interval.lower)} to ${signedPercent(interval.upper)})` +
      `${includesZero(interval) ? ', an interval that includes zero, so confidence is low' : ''}.`,
  };
}

function frequentistJudgement(comparison: ComparisonOfResult, facts: JsonObject): Judgement {
  const result = frequentistTest(comparison);
  if (result.status === 'inconclusive') return inconclusiveJudgement(result.message, result.reason, facts);
  const interval = result.interval;
  return {
    kind: 'scored',
    score: 1 - result.pValueTreatmentBetter,
    confidence: intervalConfidence(interval),
    facts: {
      ...facts,
      lift: result.effect,
      interval: { lower: interval.lower, upper: interval.upper },
      pValue: result.pValueTreatmentBetter,
      test: result.distribution === 'normal' ? 'two-proportion z' : 'Welch t',
    },
    rationale:
      `One-sided p-value ${result.pValueTreatmentBetter.toPrecision(3)} that the variant is no better ` +
      `(lift ${signedPercent(result.effect)}, 95 % confidence interval ${signedPercent(interval.lower)} to ` +
      `${signedPercent(interval.upper)})${includesZero(interval) ? ', an interval that includes zero, so confidence is low' : ''}.`,
  };
}

const includesZero = (interval: { lower: number; upper: number }): boolean =>
  interval.lower <= 0 && interval.upper >= 0;
const percent = (value: number): string => `${(value * 100).toFixed(1)} %`;
const signedPercent = (value: number): string => `${value >= 0 ? '+' : ''}${(value * 100).toFixed(1)} %`;
