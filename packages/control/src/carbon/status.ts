import { carbonTransferId, microgramsToGrams, type CarbonScope } from '@tokenwise/core';
import { carbonEmittedBetween, currentCarbonCap, type Db } from '@tokenwise/db';
import {
  carbonBudgetKey,
  carbonSourceKey,
  findAccount,
  getTransfers,
  type Balance,
  type Ledger,
} from '@tokenwise/ledger';
import { activeUntilRaises, type UntilRaise } from '@tokenwise/db';
import { createBudgetPeriods } from './budget-periods';
import { budgetFundingOps } from './funding';

/** One scope's budget this period, in grams. */
export interface CarbonScopeStatus {
  scope: CarbonScope;
  scopeId: string;
  period: string;
  /** null: no cap (no limit). */
  capGrams: number | null;
  usedGrams: number;
  /** Held by requests in flight. */
  heldGrams: number;
  /** null without a cap; the cap plus approved raises minus used and held otherwise. */
  remainingGrams: number | null;
  softPercent: number | null;
  resetsAt: string;
}

const periods = createBudgetPeriods();

/**
 * A scope's budget now: with a cap, what its budget account says (used = posted, held = pending),
 * counting funding (cap, running raises) that no request has triggered yet; without one, the
 * month's emissions from the usage rows.
 */
export async function carbonScopeStatus(
  deps: { db: Db; ledger: Ledger; now?: () => Date },
  params: {
    orgId: string;
    timeZone: string;
    scope: CarbonScope;
    scopeId: string;
    /** The org's running `until` raises, when the caller already read them (one read for several scopes). */
    untilRaises?: Promise<UntilRaise[]>;
  },
): Promise<CarbonScopeStatus> {
  const now = deps.now?.() ?? new Date();
  const cap = await currentCarbonCap(deps.db, { scope: params.scope, scopeId: params.scopeId });
  const hard = cap?.hardMicrograms ?? null;
  const window = periods(now, params.timeZone, cap !== undefined && hard !== null ? cap.period : 'month');
  const base = {
    scope: params.scope,
    scopeId: params.scopeId,
    period: window.period,
    resetsAt: window.end.toISOString(),
  };
  if (cap === undefined || hard === null) {
    const used = await carbonEmittedBetween(deps.db, { ...params, from: window.start, to: window.end });
    return {
      ...base,
      capGrams: null,
      usedGrams: microgramsToGrams(used),
      heldGrams: 0,
      remainingGrams: null,
      softPercent: null,
    };
  }
  const key = carbonBudgetKey({
    orgId: params.orgId,
    scope: params.scope,
    scopeId: params.scopeId,
    period: window.period,
  });
  const budget = await findAccount(deps.db, key);
  const source = await findAccount(deps.db, carbonSourceKey(params.orgId));
  const untilRaises = await (params.untilRaises ?? activeUntilRaises(deps.db, { orgId: params.orgId }));
  const funding = budgetFundingOps({
    budgetAccountId: budget?.id ?? 'none',
    sourceAccountId: source?.id ?? 'none',
    scope: params.scope,
    scopeId: params.scopeId,
    capVersion: cap.version,
    hardMicrograms: hard,
    period: window.period,
    periodStartDate: window.startDate,
    untilRaises,
  });
  let used = 0n;
  let held = 0n;
  let available = 0n;
  let unfunded = funding.reduce((sum, op) => sum + op.amount, 0n);
  if (budget !== undefined) {
    const { balance, used: emitted } = await budgetUse(deps, budget.id, cap.version);
    used = emitted;
    held = balance.debitsPending;
    available = balance.available;
    const landed = new Set(
      (
        await getTransfers(
          deps.db,
          funding.map((op) => op.id),
        )
      ).map((transfer) => transfer.id),
    );
    unfunded = funding.filter((op) => !landed.has(op.id)).reduce((sum, op) => sum + op.amount, 0n);
  }
  return {
    ...base,
    capGrams: microgramsToGrams(hard),
    usedGrams: microgramsToGrams(used),
    heldGrams: microgramsToGrams(held),
    remainingGrams: microgramsToGrams(available + unfunded),
    softPercent: cap.softPercent,
  };
}

/**
 * A budget account's balance and what was emitted from it: its posted debits less the cap cuts
 * (which are debits too), over every cap version up to `capVersion`.
 */
export async function budgetUse(
  deps: { db: Db; ledger: Ledger },
  budgetAccountId: string,
  capVersion: number,
): Promise<{ balance: Balance; used: bigint }> {
  const balance = await deps.ledger.balance(budgetAccountId);
  const cutIds = Array.from({ length: capVersion }, (_, index) =>
    carbonTransferId.capChange(budgetAccountId, index + 1),
  );
  const cuts = (await getTransfers(deps.db, cutIds))
    .filter((transfer) => transfer.debitAccountId === budgetAccountId)
    .reduce((sum, transfer) => sum + transfer.amount, 0n);
  return { balance, used: balance.debitsPosted - cuts };
}
