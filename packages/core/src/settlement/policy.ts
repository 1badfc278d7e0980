import { z } from 'zod';
import type { Amount } from '../amount';
import { amountSchema } from '../schemas';
import { currencyCodeSchema } from '../schemas';

/** Basis points: 10,000 = 100 %. Shares are integers so refunds stay exact. */
export const basisPointsMax = 10_000;
const basisPoints = z.number().int().min(0).max(basisPointsMax);

/**
 * A team lead's settlement policy: score thresholds give back a share of the cost, in the currency
 * that paid; a high score earns priority tokens from the org's reward pool.
 */
export const settlementPolicySchema = z
  .object({
    /** Highest threshold met wins. Thresholds are scores in [0, 1]. */
    refunds: z.array(z.object({ minScore: z.number().min(0).max(1), shareBps: basisPoints })).max(10).default([]),
    reward: z.object({ minScore: z.number().min(0).max(1), amount: amountSchema, currency: currencyCodeSchema.default('priority') }).optional(),
    /** Results below this confidence settle nothing (the score is not trusted enough). */
    minConfidence: z.number().min(0).max(1).default(0.5),
  })
  .refine((policy) => new Set(policy.refunds.map((tier) => tier.minScore)).size === policy.refunds.length, { message: 'refund thresholds must be distinct', path: ['refunds'] });
export type SettlementPolicy = z.output<typeof settlementPolicySchema>;

/** The org-wide bounds an admin sets; a lead's policy never goes beyond them. */
export const settlementBoundsSchema = z.object({
  maxRefundShareBps: basisPoints.default(5_000),
  /** Largest reward per request. */
  maxRewardPerRequest: amountSchema.default(0n),
});
export type SettlementBounds = z.output<typeof settlementBoundsSchema>;

export interface SettlementDecision {
  refundShareBps: number;
  /** Exact: floor(cost * share / 10,000), never more than was charged. */
  refund: Amount;
  reward: Amount;
  rewardCurrency: string | undefined;
  reason: string;
}

/** Applies a policy within the org's bounds to a value score; pure and exact. */
export function decideSettlement(input: { policy: SettlementPolicy; bounds: SettlementBounds; score: number | undefined; confidence: number; cost: Amount }): SettlementDecision {
  const none = (reason: string): SettlementDecision => ({ refundShareBps: 0, refund: 0n, reward: 0n, rewardCurrency: undefined, reason });
  if (input.score === undefined) return none('no plugin produced a score');
  if (input.confidence < input.policy.minConfidence) return none(`confidence ${input.confidence.toFixed(2)} is below the policy's ${input.policy.minConfidence}`);
  const met = input.policy.refunds.filter((tier) => input.score !== undefined && input.score >= tier.minScore).sort((a, b) => b.minScore - a.minScore)[0];
  const shareBps = Math.min(met?.shareBps ?? 0, input.bounds.maxRefundShareBps);
  const refund = (input.cost * BigInt(shareBps)) / BigInt(basisPointsMax);
  const reward = input.policy.reward !== undefined && input.score >= input.policy.reward.minScore ? (input.policy.reward.amount < input.bounds.maxRewardPerRequest ? input.policy.reward.amount : input.bounds.maxRewardPerRequest) : 0n;
  const capped = met !== undefined && met.shareBps > input.bounds.maxRefundShareBps ? ` (capped by the org at ${input.bounds.maxRefundShareBps} bps)` : '';
  return {
    refundShareBps: shareBps,
    refund,
    reward: reward > 0n ? reward : 0n,
    rewardCurrency: reward > 0n ? input.policy.reward?.currency : undefined,
    reason: met === undefined ? `score ${input.score.toFixed(2)} meets no refund threshold` : `score ${input.score.toFixed(2)} >= ${met.minScore}: refund ${shareBps} bps${capped}`,
  };
}

export interface PluginOutcome {
  pluginId: string;
  weight: number;
  status: 'scored' | 'pending' | 'not_applicable' | 'error';
  score?: number;
  confidence?: number;
}

/**
 * The value score: the mean of scored results weighted by configured weight times the result's
 * confidence; confidence is the weighted mean confidence. Errors and not_applicable are left out.
 */
export function aggregateScores(outcomes: readonly PluginOutcome[]): { score: number | undefined; confidence: number; counted: number } {
  let weightSum = 0;
  let scoreSum = 0;
  let confidenceWeight = 0;
  let confidenceSum = 0;
  let counted = 0;
  for (const outcome of outcomes) {
    if (outcome.status !== 'scored' || outcome.score === undefined || outcome.confidence === undefined || outcome.weight <= 0) continue;
    const weight = outcome.weight * outcome.confidence;
    counted++;
    confidenceWeight += outcome.weight;
    confidenceSum += outcome.weight * outcome.confidence;
    if (weight === 0) continue;
    weightSum += weight;
    scoreSum += weight * outcome.score;
  }
  return { score: weightSum === 0 ? undefined : scoreSum / weightSum, confidence: confidenceWeight === 0 ? 0 : confidenceSum / confidenceWeight, counted };
}
