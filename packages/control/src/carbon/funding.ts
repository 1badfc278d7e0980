import { carbonTransferId, type CarbonScope } from '@tokenwise/core';
import type { UntilRaise } from '@tokenwise/db';
import type { TransferOp } from '@tokenwise/ledger';

/**
 * The transfers that fund one budget account for its period: the cap (`carbon-fund-<account>`)
 * and each running `until` raise of the scope that reaches into the period
 * (`carbon-raise-<id>-<period>`). Ids are deterministic, so whichever gateway (or cap change) runs
 * first funds it and every other gets a duplicate: a period is funded once.
 */
export function budgetFundingOps(params: {
  budgetAccountId: string;
  sourceAccountId: string;
  scope: CarbonScope;
  scopeId: string;
  capVersion: number;
  hardMicrograms: bigint;
  period: string;
  periodStartDate: string;
  untilRaises: readonly UntilRaise[];
}): TransferOp[] {
  const ops: TransferOp[] = [];
  if (params.hardMicrograms > 0n)
    ops.push({
      type: 'transfer',
      id: carbonTransferId.fund(params.budgetAccountId),
      debitAccountId: params.sourceAccountId,
      creditAccountId: params.budgetAccountId,
      amount: params.hardMicrograms,
      code: 'carbon_fund',
      userData: { period: params.period, capVersion: params.capVersion },
    });
  for (const raise of params.untilRaises) {
    if (raise.scope !== params.scope || raise.scopeId !== params.scopeId) continue;
    if (raise.until < params.periodStartDate) continue;
    // The period it was decided in got `carbon-raise-<id>` then; later ones get their own transfer.
    if (raise.grantedPeriod !== null && raise.grantedPeriod >= params.period) continue;
    ops.push({
      type: 'transfer',
      id: carbonTransferId.raiseInPeriod(raise.id, params.period),
      debitAccountId: params.sourceAccountId,
      creditAccountId: params.budgetAccountId,
      amount: raise.grantedMicrograms,
      code: 'carbon_raise',
      userData: { period: params.period, raiseId: raise.id },
    });
  }
  return ops;
}

/** A funding transfer's result that means "funded": new, a replay, or funded first by someone else with another amount. */
export const fundedBy = (result: { ok: boolean; code?: string }): boolean =>
  result.ok || result.code === 'idempotency_conflict';
