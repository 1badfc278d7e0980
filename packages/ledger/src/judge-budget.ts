import { IdempotencyConflictError, LimitExceededError, NotFoundError } from '@tokenwise/core';
import { setJudgeBudget, type Db } from '@tokenwise/db';
import { orgs } from '@tokenwise/db/schema';
import { eq } from 'drizzle-orm';
import { judgeWalletKey } from './accounts';
import type { Ledger } from './ledger';

/** What setting a judge budget did to this month: funded now, funded earlier this month, or refused by the org's grant bounds. */
export type JudgeBudgetThisMonth =
  { status: 'funded' | 'already_funded_this_month' | 'removed' } | { status: 'over_grant_bounds'; message: string };

/**
 * Sets the org's monthly judge budget (audited) and funds this month's at once, from the org's
 * issuance within its bounds, as the hourly schedule would: once per judge wallet and month, so a
 * changed amount applies from next month (a grant into the judge wallet tops it up now).
 */
export async function applyJudgeBudget(
  db: Db,
  ledger: Ledger,
  params: { orgId: string; currency: string; amount: bigint; actor: string },
): Promise<{ walletId: string; thisMonth: JudgeBudgetThisMonth }> {
  const [org] = await db.select({ timeZone: orgs.timeZone }).from(orgs).where(eq(orgs.id, params.orgId)).limit(1);
  if (org === undefined) throw new NotFoundError(`No org ${params.orgId}.`);
  const stored = await setJudgeBudget(db, params);
  const wallet = await ledger.ensureAccount(judgeWalletKey(params));
  if (stored === undefined) return { walletId: wallet.id, thisMonth: { status: 'removed' } };
  try {
    const result = await ledger.grantAllowance({
      to: wallet.id,
      currency: params.currency,
      amount: params.amount,
      at: new Date(),
      timeZone: org.timeZone,
      actor: params.actor,
      orgId: params.orgId,
    });
    return { walletId: wallet.id, thisMonth: { status: result.duplicate ? 'already_funded_this_month' : 'funded' } };
  } catch (error) {
    if (error instanceof IdempotencyConflictError)
      return { walletId: wallet.id, thisMonth: { status: 'already_funded_this_month' } };
    if (error instanceof LimitExceededError)
      return { walletId: wallet.id, thisMonth: { status: 'over_grant_bounds', message: error.message } };
    throw error;
  }
}
