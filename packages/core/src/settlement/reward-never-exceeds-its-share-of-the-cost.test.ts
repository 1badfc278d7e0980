import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decideSettlement, rewardShareBpsDefault, settlementBoundsSchema, settlementPolicySchema } from './policy';

const currency = fc.constantFrom('innovation', 'priority');
const bps = fc.integer({ min: 0, max: 10_000 });
const amount = fc.bigInt({ min: 0n, max: 10n ** 15n });

const policyArbitrary = fc.record({
  refunds: fc.uniqueArray(fc.record({ minScore: fc.double({ min: 0, max: 1, noNaN: true }), shareBps: bps }), {
    maxLength: 4,
    selector: (tier) => tier.minScore,
  }),
  reward: fc.record({ minScore: fc.double({ min: 0, max: 1, noNaN: true }), amount, currency }),
  minConfidence: fc.double({ min: 0, max: 1, noNaN: true }),
  maxRewardShareBps: fc.option(bps, { nil: undefined }),
});
const boundsArbitrary = fc.record({ maxRefundShareBps: bps, maxRewardPerRequest: amount });

describe('a reward never exceeds its share of the request cost', () => {
  it('for any cost, score and policy: reward <= maxRewardShareBps of the cost, <= the cost less the refund, <= the org bound', () => {
    fc.assert(
      fc.property(
        policyArbitrary,
        boundsArbitrary,
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.bigInt({ min: 0n, max: 10n ** 12n }),
        currency,
        (body, boundsBody, score, confidence, cost, costCurrency) => {
          const policy = settlementPolicySchema.parse(body);
          const bounds = settlementBoundsSchema.parse(boundsBody);
          const decision = decideSettlement({ policy, bounds, score, confidence, cost, costCurrency });
          // Absent, the documented default: 10 % of the cost.
          const shareBps = BigInt(body.maxRewardShareBps ?? 1_000);
          expect(decision.reward).toBeGreaterThanOrEqual(0n);
          // Both token currencies have 6 decimals: the cost counts at par in the reward currency.
          expect(decision.reward * 10_000n).toBeLessThanOrEqual(cost * shareBps);
          expect(decision.reward + decision.refund).toBeLessThanOrEqual(cost);
          expect(decision.reward).toBeLessThanOrEqual(bounds.maxRewardPerRequest);
          if (decision.reward < decision.rewardDue)
            expect(decision.reason).toMatch(/reward capped at \d+ \w+ by |no reward: capped at 0 by /);
        },
      ),
      { numRuns: 2_000 },
    );
  });

  it('bounds a policy written before the field existed by the default share, and says so', () => {
    const policy = settlementPolicySchema.parse({
      refunds: [{ minScore: 0.5, shareBps: 5_000 }],
      reward: { minScore: 0.9, amount: '500' },
    });
    expect(policy.maxRewardShareBps).toBe(rewardShareBpsDefault);
    const bounds = settlementBoundsSchema.parse({ maxRewardPerRequest: '1000' });
    const decision = decideSettlement({
      policy,
      bounds,
      score: 1,
      confidence: 1,
      cost: 130n,
      costCurrency: 'innovation',
    });
    expect(decision).toMatchObject({ refund: 65n, reward: 13n, rewardCurrency: 'priority', rewardDue: 500n });
    expect(decision.reason).toContain(
      "reward capped at 13 priority by the policy's maxRewardShareBps 1000 of the request's cost 130 innovation (policy: 500)",
    );
  });

  it('never pays back more than the request cost, whatever the share', () => {
    const policy = settlementPolicySchema.parse({
      refunds: [{ minScore: 0.5, shareBps: 8_000 }],
      reward: { minScore: 0.5, amount: '1000' },
      maxRewardShareBps: 10_000,
    });
    const bounds = settlementBoundsSchema.parse({ maxRefundShareBps: 8_000, maxRewardPerRequest: '1000' });
    expect(
      decideSettlement({ policy, bounds, score: 1, confidence: 1, cost: 100n, costCurrency: 'innovation' }),
    ).toMatchObject({ refund: 80n, reward: 20n });
  });

  it('refuses a share outside 0..10,000 bps naming the field', () => {
    for (const maxRewardShareBps of [-1, 10_001, 1.5, '100']) {
      expect(settlementPolicySchema.safeParse({ maxRewardShareBps }).error?.issues[0]?.path).toEqual([
        'maxRewardShareBps',
      ]);
    }
  });
});
