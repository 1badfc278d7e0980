import type { Amount, SettlementBounds, SettlementDecision } from '@tokenwise/core';
import type { Db, UsageRecord } from '@tokenwise/db';
import type { AccountLookup, FailureCode, Ledger, LedgerOp } from '@tokenwise/ledger';
import { planRewardCapLevel, readRewardCap, rewardCapCodes, rewardCapUseOp } from './reward-cap';

/** A reward op that failed because settlements running at once took the pool or the cap first: read again. */
export function isTakenByAnotherSettlement(op: LedgerOp, code: FailureCode): boolean {
  if (op.type !== 'transfer') return false;
  if (op.code === 'reward' || op.code === rewardCapCodes.use) return code === 'insufficient_funds';
  // A level change that collides with one committed since this settlement read the level.
  return op.code === rewardCapCodes.level && (code === 'idempotency_conflict' || code === 'insufficient_funds');
}

export interface BoundedReward {
  amount: Amount;
  /** The cap's level change (if any) and its debit, to link after the reward transfer. */
  ops: LedgerOp[];
  /** Why the reward is less than the policy's decision, for the settlement row and notification. */
  note: string;
}

/**
 * The decided reward, cut to the user's monthly cap (org's time zone) and then to what the org's
 * reward pool holds, with the cap's ledger ops. Reads fresh state; the linked chain re-checks it.
 */
export async function boundReward(
  deps: { db: Db; ledger: Ledger; account: AccountLookup },
  usage: UsageRecord,
  decision: SettlementDecision,
  bounds: SettlementBounds,
  period: string,
): Promise<BoundedReward> {
  let amount = decision.reward;
  const currency = decision.rewardCurrency;
  if (amount <= 0n || currency === undefined || usage.userId === null) return { amount: 0n, ops: [], note: '' };
  let note = '';
  const cap = bounds.maxRewardPerUserPerMonth;
  const state = await readRewardCap(deps, { orgId: usage.orgId, userId: usage.userId, currency, period });
  const level = planRewardCapLevel(state, cap);
  if (level.available < amount) {
    amount = level.available > 0n ? level.available : 0n;
    note = `; reward capped at ${amount} by the org's maxRewardPerUserPerMonth ${cap} ${currency} (${level.used} already rewarded to this user in ${period}; policy: ${decision.reward})`;
  }
  if (amount > 0n) {
    const pool = await deps.account({
      ownerType: 'org',
      ownerId: usage.orgId,
      orgId: usage.orgId,
      currency,
      purpose: 'reward_pool',
    });
    const available = (await deps.ledger.balance(pool.id)).available;
    if (available < amount) {
      note +=
        available > 0n
          ? `; reward capped at the ${available} the org's reward pool holds (policy: ${decision.reward})`
          : `; no reward: the org's reward pool is empty (policy: ${decision.reward})`;
      amount = available > 0n ? available : 0n;
    }
  }
  if (amount <= 0n) return { amount: 0n, ops: [], note };
  return {
    amount,
    ops: [...(level.op === undefined ? [] : [level.op]), rewardCapUseOp(state, usage.requestId, amount)],
    note,
  };
}
