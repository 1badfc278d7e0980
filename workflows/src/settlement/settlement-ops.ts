import { type Amount, refundTransferId, rewardTransferId } from '@tokenwise/core';
import type { UsageRecord } from '@tokenwise/db';
import type { AccountLookup, LedgerOp } from '@tokenwise/ledger';

/** The refund (consumption -> wallet, in the currency that paid) and the reward (reward pool -> priority wallet), linked. */
export async function settlementOps(
  account: AccountLookup,
  usage: UsageRecord,
  refund: Amount,
  reward: Amount,
  rewardCurrency: string | undefined,
  requestId: string,
): Promise<LedgerOp[]> {
  const ops: LedgerOp[] = [];
  if (usage.userId === null) return ops;
  if (refund > 0n) {
    const wallet = await account({
      ownerType: 'user',
      ownerId: usage.userId,
      orgId: usage.orgId,
      currency: usage.currency,
      purpose: 'wallet',
    });
    const sink = await account({
      ownerType: 'system',
      ownerId: 'consumption',
      currency: usage.currency,
      purpose: 'consumption',
    });
    ops.push({
      type: 'transfer',
      id: refundTransferId(requestId),
      debitAccountId: sink.id,
      creditAccountId: wallet.id,
      amount: refund,
      code: 'refund',
      userData: { requestId },
    });
  }
  if (reward > 0n && rewardCurrency !== undefined) {
    const pool = await account({
      ownerType: 'org',
      ownerId: usage.orgId,
      orgId: usage.orgId,
      currency: rewardCurrency,
      purpose: 'reward_pool',
    });
    const wallet = await account({
      ownerType: 'user',
      ownerId: usage.userId,
      orgId: usage.orgId,
      currency: rewardCurrency,
      purpose: 'wallet',
    });
    ops.push({
      type: 'transfer',
      id: rewardTransferId(requestId),
      debitAccountId: pool.id,
      creditAccountId: wallet.id,
      amount: reward,
      code: 'reward',
      userData: { requestId },
    });
  }
  return ops;
}
