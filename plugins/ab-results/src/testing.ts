// Test payloads in the shape the experiments relay sends (core's abEvidencePayloadSchema).
import { abEvidenceId, abEvidenceSource, abResultsPluginId, type MetricSummary } from '@tokenwise/core';
import type { ExternalEvidence, JsonValue } from '@tokenwise/plugin-sdk';

/**
 * gbstats 0.8.0 on "revenue per user, 5,000 vs 5,000, +4 % lift"
 * (packages/core/src/experiments/fixtures/gbstats-cases.json, produced by gbstats-cases.py).
 */
export const revenuePerUser = {
  control: { kind: 'mean', count: 5000, sum: 28962.435766667473, sumSquares: 659636.0832252596 },
  treatment: { kind: 'mean', count: 5000, sum: 31927.743997096994, sumSquares: 947734.3878591107 },
  gbstats: {
    lift: 0.10238462863825357,
    bayesian: { ci: [0.023993134341310063, 0.18077612293519707], chanceToWin: 0.9947640782696718 },
    frequentist: { ci: [0.02398324836715464, 0.18078600890935248], pValueTreatmentGreater: 0.00524351020510716 },
  },
} as const satisfies { control: MetricSummary; treatment: MetricSummary; gbstats: unknown };

/** gbstats 0.8.0 on "merged-PR share, 150 vs 160": a 95 % interval that includes zero. */
export const mergedPrShare = {
  control: { kind: 'binomial', count: 150, sum: 51 },
  treatment: { kind: 'binomial', count: 160, sum: 63 },
  gbstats: { chanceToWin: 0.8182609259081491, ci: [-0.18286878527704065, 0.4990452558652756] },
} as const satisfies { control: MetricSummary; treatment: MetricSummary; gbstats: unknown };

export interface PayloadOptions {
  resultId?: string;
  experimentKey?: string;
  variantKey?: string;
  metricId?: string;
  higherIsBetter?: boolean;
  control?: MetricSummary;
  treatment?: MetricSummary;
  controlKey?: string;
  weights?: [number, number];
  eligibility?: Partial<{ assigned: boolean; duringExperiment: boolean; selfSubmitted: boolean }>;
}

/** An A/B evidence payload for variant `blue` (by default) of `checkout-button` against `control`. */
export function abPayload(options: PayloadOptions = {}): JsonValue {
  const variantKey = options.variantKey ?? 'blue';
  const weights = options.weights;
  return {
    v: 1,
    resultId: options.resultId ?? 'res-1',
    experimentKey: options.experimentKey ?? 'checkout-button',
    metricId: options.metricId ?? 'revenue',
    higherIsBetter: options.higherIsBetter ?? true,
    variantKey,
    variations: [
      {
        key: options.controlKey ?? 'control',
        summary: { ...(options.control ?? revenuePerUser.control) },
        ...(weights ? { weight: weights[0] } : {}),
      },
      {
        key: variantKey,
        summary: { ...(options.treatment ?? revenuePerUser.treatment) },
        ...(weights ? { weight: weights[1] } : {}),
      },
    ],
    eligibility: { assigned: true, duringExperiment: true, selfSubmitted: false, ...options.eligibility },
  };
}

/** The external evidence the relay sends for one result. */
export function abEvidence(
  payload: JsonValue,
  observedAt = '2025-01-05T00:00:00.000Z',
  resultId = (payload as { resultId?: string }).resultId ?? 'res-1',
): ExternalEvidence {
  return {
    pluginId: abResultsPluginId,
    evidenceId: abEvidenceId(resultId),
    source: abEvidenceSource,
    observedAt,
    payload,
  };
}
