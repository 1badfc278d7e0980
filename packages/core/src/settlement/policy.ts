import { z } from 'zod';
import { amountMax, type Amount } from '../amount';
import { amountSchema } from '../schemas';
import { currencyCodeSchema } from '../schemas';
import { rewardShareBound } from './reward-bound';

/** Basis points: 10,000 = 100 %. Shares are integers so refunds stay exact. */
export const basisPointsMax = 10_000;
const basisPoints = z.number().int().min(0).max(basisPointsMax);
const nonNegativeAmount = amountSchema.refine((value) => value >= 0n, 'must not be negative');

/**
 * The share of a request's cost a reward may reach when the policy does not say: 10 %. Policies
 * written before the bound existed get it too, so a cheap request can no longer earn a large fixed
 * reward (the way rewards were farmed).
 */
export const rewardShareBpsDefault = 1_000;

/**
 * Without an explicit per-user monthly cap, a user may earn this many of the largest rewards a
 * month (maxRewardPerRequest times this).
 */
export const rewardsPerUserPerMonthDefault = 20n;

/**
 * A team lead's settlement policy: score thresholds give back a share of the cost, in the currency
 * that paid; a high score earns priority tokens from the org's reward pool.
 */
export const settlementPolicySchema = z
  .object({
    /** Highest threshold met wins. Thresholds are scores in [0, 1]. */
    refunds: z
      .array(z.object({ minScore: z.number().min(0).max(1), shareBps: basisPoints }))
      .max(10)
      .default([]),
    reward: z
      .object({
        minScore: z.number().min(0).max(1),
        amount: amountSchema,
        currency: currencyCodeSchema.default('priority'),
      })
      .optional(),
    /** Results below this confidence settle nothing (the score is not trusted enough). */
    minConfidence: z.number().min(0).max(1).default(0.5),
    /**
     * A reward is at most this share of the request's cost (basis points; the cost counts at par
     * in the reward's currency, see costInRewardCurrency), and never more than the cost left after
     * the refund.
     */
    maxRewardShareBps: basisPoints.default(rewardShareBpsDefault),
  })
  .refine((policy) => new Set(policy.refunds.map((tier) => tier.minScore)).size === policy.refunds.length, {
    message: 'refund thresholds must be distinct',
    path: ['refunds'],
  });
export type SettlementPolicy = z.output<typeof settlementPolicySchema>;

/** The org-wide bounds an admin sets; a lead's policy never goes beyond them. */
export const settlementBoundsSchema = z
  .object({
    maxRefundShareBps: basisPoints.default(5_000),
    /** Largest reward per request. */
    maxRewardPerRequest: amountSchema.default(0n),
    /**
     * Most one user may earn in rewards per calendar month in the org's time zone, in minor units
     * of each reward currency. Absent: rewardsPerUserPerMonthDefault times maxRewardPerRequest.
     */
    maxRewardPerUserPerMonth: nonNegativeAmount.optional(),
  })
  .transform(({ maxRewardPerUserPerMonth, ...bounds }) => {
    const derived = bounds.maxRewardPerRequest > 0n ? bounds.maxRewardPerRequest * rewardsPerUserPerMonthDefault : 0n;
    return {
      ...bounds,
      maxRewardPerUserPerMonth: maxRewardPerUserPerMonth ?? (derived > amountMax ? amountMax : derived),
    };
  });
export type SettlementBounds = z.output<typeof settlementBoundsSchema>;

export interface SettlementDecision {
  refundShareBps: number;
  /** Exact: floor(cost * share / 10,000), never more than was charged. */
  refund: Amount;
  reward: Amount;
  rewardCurrency: string | undefined;
  /** The reward the policy grants before any bound (0 when none is due): what a capped reward was cut from. */
  rewardDue: Amount;
  reason: string;
}

/** Applies a policy within the org's bounds to a value score; pure and exact. */
export function decideSettlement(input: {
  policy: SettlementPolicy;
  bounds: SettlementBounds;
  score: number | undefined;
  confidence: number;
  cost: Amount;
  costCurrency: string;
}): SettlementDecision {
  const none = (reason: string): SettlementDecision => ({
    refundShareBps: 0,
    refund: 0n,
    reward: 0n,
    rewardCurrency: undefined,
    rewardDue: 0n,
    reason,
  });
  if (input.score === undefined) return none('no plugin produced a score');
  if (input.confidence < input.policy.minConfidence)
    return none(`confidence ${input.confidence.toFixed(2)} is below the policy's ${input.policy.minConfidence}`);
  const score = input.score;
  const met = input.policy.refunds.filter((tier) => score >= tier.minScore).sort((a, b) => b.minScore - a.minScore)[0];
  const shareBps = Math.min(met?.shareBps ?? 0, input.bounds.maxRefundShareBps);
  const refund = (input.cost * BigInt(shareBps)) / BigInt(basisPointsMax);
  const reward = decideReward({ ...input, score, refund });
  const capped =
    met !== undefined && met.shareBps > input.bounds.maxRefundShareBps
      ? ` (capped by the org at ${input.bounds.maxRefundShareBps} bps)`
      : '';
  return {
    refundShareBps: shareBps,
    refund,
    reward: reward.amount,
    rewardCurrency: reward.amount > 0n ? reward.currency : undefined,
    rewardDue: reward.due,
    reason: `${met === undefined ? `score ${score.toFixed(2)} meets no refund threshold` : `score ${score.toFixed(2)} >= ${met.minScore}: refund ${shareBps} bps${capped}`}${reward.note}`,
  };
}

/**
 * The reward for a score: the policy's amount, then each bound in turn (the org's largest reward
 * per request, the policy's share of the cost, the cost left after the refund); the first bound
 * that cuts it is named in the note.
 */
function decideReward(input: {
  policy: SettlementPolicy;
  bounds: SettlementBounds;
  score: number;
  cost: Amount;
  costCurrency: string;
  refund: Amount;
}): { amount: Amount; currency: string | undefined; due: Amount; note: string } {
  const policyReward = input.policy.reward;
  if (policyReward === undefined || input.score < policyReward.minScore || policyReward.amount <= 0n)
    return { amount: 0n, currency: undefined, due: 0n, note: '' };
  const due = policyReward.amount;
  const currency = policyReward.currency;
  const bound = rewardShareBound({
    cost: input.cost,
    costCurrency: input.costCurrency,
    refund: input.refund,
    rewardCurrency: currency,
    shareBps: input.policy.maxRewardShareBps,
  });
  if (bound === undefined)
    return {
      amount: 0n,
      currency,
      due,
      note: `; no reward: its currency "${currency}" or the cost's "${input.costCurrency}" is unknown`,
    };
  const limits: [Amount, string][] = [
    [input.bounds.maxRewardPerRequest, `the org's maxRewardPerRequest ${input.bounds.maxRewardPerRequest}`],
    [
      bound.shareBound,
      `the policy's maxRewardShareBps ${input.policy.maxRewardShareBps} of the request's cost ${input.cost} ${input.costCurrency}`,
    ],
    [bound.costLeft, `the request's cost ${input.cost} ${input.costCurrency} less its refund ${input.refund}`],
  ];
  let amount = due;
  let cutBy: string | undefined;
  for (const [limit, name] of limits) {
    const floor = limit > 0n ? limit : 0n;
    if (floor < amount) {
      amount = floor;
      cutBy = name;
    }
  }
  if (cutBy === undefined) return { amount, currency, due, note: '' };
  return {
    amount,
    currency,
    due,
    note:
      amount > 0n
        ? `; reward capped at ${amount} ${currency} by ${cutBy} (policy: ${due})`
        : `; no reward: capped at 0 by ${cutBy} (policy: ${due})`,
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
export function aggregateScores(outcomes: readonly PluginOutcome[]): {
  score: number | undefined;
  confidence: number;
  counted: number;
} {
  let weightSum = 0;
  let scoreSum = 0;
  let confidenceWeight = 0;
  let confidenceSum = 0;
  let counted = 0;
  for (const outcome of outcomes) {
    if (
      outcome.status !== 'scored' ||
      outcome.score === undefined ||
      outcome.confidence === undefined ||
      outcome.weight <= 0
    )
      continue;
    const weight = outcome.weight * outcome.confidence;
    counted++;
    confidenceWeight += outcome.weight;
    confidenceSum += outcome.weight * outcome.confidence;
    if (weight === 0) continue;
    weightSum += weight;
    scoreSum += weight * outcome.score;
  }
  return {
    score: weightSum === 0 ? undefined : scoreSum / weightSum,
    confidence: confidenceWeight === 0 ? 0 : confidenceSum / confidenceWeight,
    counted,
  };
}
