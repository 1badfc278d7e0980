import { rewardCapTransferId } from '@tokenwise/core';
import type { Amount } from '@tokenwise/core';
import type { Db } from '@tokenwise/db';
import { lastTransferWithCode, type AccountLookup, type Ledger, type LedgerOp } from '@tokenwise/ledger';

/**
 * The per-user monthly reward cap as ledger accounts. Each user has a `reward_cap` account per
 * month and reward currency, funded up to the org's `maxRewardPerUserPerMonth`; every reward is
 * linked with a debit of it (`reward-cap-<requestId>`). The account may never go below zero, so the
 * ledger refuses whatever would pass the cap, however many settlements of the user run at once and
 * however often they are retried: the check and the reward commit in one linked chain.
 *
 * The cap may change during a month. Its level moves only by numbered level changes
 * (`reward-cap-level-<account>-<n>`): two settlements that read the same level propose the same
 * change (one applies, the other is its duplicate), and one that read a stale level proposes a
 * different body under a taken id, which the ledger refuses, so it reads again. A lowered cap takes
 * back what is left above it, never what was already paid.
 */
export const rewardCapCodes = { level: 'reward_cap_level', use: 'reward_cap_use' } as const;

export interface RewardCapState {
  capAccountId: string;
  sourceAccountId: string;
  period: string;
  /** Level changes so far (0: the account was never funded). */
  changes: number;
  /** What the account was last funded to: the cap then in force, or what was used when it was lowered below that. */
  level: Amount;
  /** What the user may still be rewarded this month at the current level. */
  available: Amount;
}

/** Reads a user's reward allowance for `period` in `currency`, opening its account on first use. */
export async function readRewardCap(
  deps: { db: Db; ledger: Ledger; account: AccountLookup },
  key: { orgId: string; userId: string; currency: string; period: string },
): Promise<RewardCapState> {
  const [cap, source] = await Promise.all([
    deps.account({
      ownerType: 'user',
      ownerId: `${key.userId}:${key.period}`,
      orgId: key.orgId,
      currency: key.currency,
      purpose: 'reward_cap',
    }),
    deps.account({ ownerType: 'system', ownerId: 'reward-cap', currency: key.currency, purpose: 'reward_cap_source' }),
  ]);
  // The level first: a change committed between the two reads makes this settlement's own change
  // collide with it, and it reads again.
  const last = await lastTransferWithCode(deps.db, { accountId: cap.id, code: rewardCapCodes.level });
  const { available } = await deps.ledger.balance(cap.id);
  const recorded = (last?.userData ?? {}) as { change?: unknown; level?: unknown };
  const changes = typeof recorded.change === 'number' ? recorded.change : 0;
  const level = typeof recorded.level === 'string' ? BigInt(recorded.level) : 0n;
  return { capAccountId: cap.id, sourceAccountId: source.id, period: key.period, changes, level, available };
}

/**
 * The level change that brings the account to `cap` (none when it is there), and what the user
 * may then be rewarded. Pure. Lowering takes back at most what is available, so the level never
 * falls below what was already used.
 */
export function planRewardCapLevel(
  state: RewardCapState,
  cap: Amount,
): { op: LedgerOp | undefined; available: Amount; used: Amount } {
  const used = state.level - state.available;
  const change = state.changes + 1;
  const id = `reward-cap-level-${state.capAccountId}-${change}`;
  if (cap > state.level) {
    const amount = cap - state.level;
    const op: LedgerOp = {
      type: 'transfer',
      id,
      debitAccountId: state.sourceAccountId,
      creditAccountId: state.capAccountId,
      amount,
      code: rewardCapCodes.level,
      userData: { period: state.period, change, level: cap.toString() },
    };
    return { op, available: state.available + amount, used };
  }
  const over = state.level - cap;
  const amount = over < state.available ? over : state.available;
  if (amount <= 0n) return { op: undefined, available: state.available, used };
  const op: LedgerOp = {
    type: 'transfer',
    id,
    debitAccountId: state.capAccountId,
    creditAccountId: state.sourceAccountId,
    amount,
    code: rewardCapCodes.level,
    userData: { period: state.period, change, level: (state.level - amount).toString() },
  };
  return { op, available: state.available - amount, used };
}

/** The debit of the user's monthly allowance that goes with the reward of `requestId`. */
export function rewardCapUseOp(state: RewardCapState, requestId: string, amount: Amount): LedgerOp {
  return {
    type: 'transfer',
    id: rewardCapTransferId(requestId),
    debitAccountId: state.capAccountId,
    creditAccountId: state.sourceAccountId,
    amount,
    code: rewardCapCodes.use,
    userData: { requestId, period: state.period },
  };
}
