import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { aggregateScores, decideSettlement, settlementBoundsSchema, settlementPolicySchema } from './policy';

const policy = settlementPolicySchema.parse({
  refunds: [
    { minScore: 0.5, shareBps: 2_000 },
    { minScore: 0.8, shareBps: 6_000 },
  ],
  reward: { minScore: 0.9, amount: '500' },
  maxRewardShareBps: 5_000,
});
const bounds = settlementBoundsSchema.parse({ maxRefundShareBps: 5_000, maxRewardPerRequest: '300' });

describe('settlement policy', () => {
  it('refunds the share of the highest threshold met, capped by the org bound, exactly', () => {
    expect(
      decideSettlement({ policy, bounds, score: 0.6, confidence: 1, cost: 1_001n, costCurrency: 'innovation' }),
    ).toMatchObject({ refundShareBps: 2_000, refund: 200n, reward: 0n });
    expect(
      decideSettlement({ policy, bounds, score: 0.85, confidence: 1, cost: 1_000n, costCurrency: 'innovation' }),
    ).toMatchObject({ refundShareBps: 5_000, refund: 500n, reason: expect.stringMatching(/capped by the org/) });
    expect(
      decideSettlement({ policy, bounds, score: 0.95, confidence: 1, cost: 1_000n, costCurrency: 'innovation' }),
    ).toMatchObject({ reward: 300n, rewardCurrency: 'priority' });
  });

  it('settles nothing without a score or with low confidence', () => {
    expect(
      decideSettlement({ policy, bounds, score: undefined, confidence: 1, cost: 1_000n, costCurrency: 'innovation' }),
    ).toMatchObject({ refund: 0n, reward: 0n });
    expect(
      decideSettlement({ policy, bounds, score: 1, confidence: 0.2, cost: 1_000n, costCurrency: 'innovation' }),
    ).toMatchObject({ refund: 0n, reason: expect.stringMatching(/confidence/) });
  });

  it('never refunds more than the cost or beyond the bound, for any score and cost', () => {
    fc.assert(
      fc.property(
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.bigInt({ min: 0n, max: 10n ** 15n }),
        (score, confidence, cost) => {
          const decision = decideSettlement({ policy, bounds, score, confidence, cost, costCurrency: 'innovation' });
          expect(decision.refund).toBeLessThanOrEqual(cost);
          expect(decision.refund * 10_000n).toBeLessThanOrEqual(cost * 5_000n);
          expect(decision.reward).toBeLessThanOrEqual(300n);
        },
      ),
    );
  });

  it('refuses a malformed policy naming the field', () => {
    expect(
      settlementPolicySchema.safeParse({ refunds: [{ minScore: 2, shareBps: 10 }] }).error?.issues[0]?.path,
    ).toEqual(['refunds', 0, 'minScore']);
  });
});

describe('score aggregation', () => {
  it('weights by configured weight times confidence and leaves out errors and not_applicable', () => {
    const result = aggregateScores([
      { pluginId: 'a', weight: 1, status: 'scored', score: 1, confidence: 1 },
      { pluginId: 'b', weight: 1, status: 'scored', score: 0, confidence: 0.5 },
      { pluginId: 'c', weight: 5, status: 'error' },
      { pluginId: 'd', weight: 5, status: 'not_applicable' },
    ]);
    expect(result.score).toBeCloseTo(2 / 3);
    expect(result.confidence).toBeCloseTo(0.75);
    expect(result.counted).toBe(2);
    expect(aggregateScores([{ pluginId: 'c', weight: 1, status: 'error' }])).toEqual({
      score: undefined,
      confidence: 0,
      counted: 0,
    });
  });

  it('stays within [0, 1] for any results', () => {
    const outcome = fc.record({
      pluginId: fc.string(),
      weight: fc.double({ min: 0, max: 10, noNaN: true }),
      status: fc.constant('scored' as const),
      score: fc.double({ min: 0, max: 1, noNaN: true }),
      confidence: fc.double({ min: 0, max: 1, noNaN: true }),
    });
    fc.assert(
      fc.property(fc.array(outcome, { maxLength: 6 }), (outcomes) => {
        const { score, confidence } = aggregateScores(outcomes);
        if (score !== undefined) {
          expect(score).toBeGreaterThanOrEqual(0);
          expect(score).toBeLessThanOrEqual(1 + 1e-12);
        }
        expect(confidence).toBeGreaterThanOrEqual(0);
        expect(confidence).toBeLessThanOrEqual(1 + 1e-12);
      }),
    );
  });
});
