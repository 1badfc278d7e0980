import { describe, expect, it } from 'vitest';
import { planRewardCapLevel, type RewardCapState } from './reward-cap';

const capAccountId = '00000000-0000-4000-8000-000000000001';
const sourceAccountId = '00000000-0000-4000-8000-000000000002';
const state = (changes: number, level: bigint, available: bigint): RewardCapState => ({
  capAccountId,
  sourceAccountId,
  period: '2026-03',
  changes,
  level,
  available,
});

describe('the level of a monthly reward cap account', () => {
  it('is funded up to the cap on first use, under a numbered id that a concurrent reader proposes identically', () => {
    const first = planRewardCapLevel(state(0, 0n, 0n), 100n);
    expect(first).toMatchObject({
      available: 100n,
      used: 0n,
      op: {
        id: `reward-cap-level-${capAccountId}-1`,
        debitAccountId: sourceAccountId,
        creditAccountId: capAccountId,
        amount: 100n,
        userData: { change: 1, level: '100' },
      },
    });
    expect(planRewardCapLevel(state(0, 0n, 0n), 100n)).toEqual(first);
  });

  it('stays put at the cap, and a stale reader proposes a different body under a taken id', () => {
    expect(planRewardCapLevel(state(1, 100n, 40n), 100n)).toEqual({ op: undefined, available: 40n, used: 60n });
    const stale = planRewardCapLevel(state(0, 0n, 0n), 150n);
    const fresh = planRewardCapLevel(state(1, 100n, 40n), 150n);
    expect(stale.op?.id).toBe(`reward-cap-level-${capAccountId}-1`);
    expect(fresh.op).toMatchObject({
      id: `reward-cap-level-${capAccountId}-2`,
      amount: 50n,
      userData: { level: '150' },
    });
    expect(fresh.available).toBe(90n);
  });

  it('takes back only what is unused when the cap is lowered, never what was paid', () => {
    expect(planRewardCapLevel(state(1, 100n, 70n), 60n)).toMatchObject({
      available: 30n,
      used: 30n,
      op: { debitAccountId: capAccountId, creditAccountId: sourceAccountId, amount: 40n, userData: { level: '60' } },
    });
    expect(planRewardCapLevel(state(1, 100n, 20n), 60n)).toMatchObject({
      available: 0n,
      used: 80n,
      op: { amount: 20n, userData: { level: '80' } },
    });
    expect(planRewardCapLevel(state(2, 80n, 0n), 60n)).toEqual({ op: undefined, available: 0n, used: 80n });
  });
});
