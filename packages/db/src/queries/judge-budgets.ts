import { InvalidAmountError } from '@tokenwise/core';
import { and, asc, eq, sql } from 'drizzle-orm';
import type { Db } from '../client';
import { judgeBudgets } from '../schema/index';
import { writeAudit } from './audit';

export interface JudgeBudget {
  orgId: string;
  currency: string;
  amount: bigint;
  updatedBy: string;
  updatedAt: Date;
}

export interface JudgeBudgetKey {
  orgId: string;
  currency: string;
}

/** Judge budgets one page of the monthly funding run reads, at most. */
export const judgeBudgetsPageSizeMax = 500;

const budgetColumns = {
  orgId: judgeBudgets.orgId,
  currency: judgeBudgets.currency,
  amount: judgeBudgets.amount,
  updatedBy: judgeBudgets.updatedBy,
  updatedAt: judgeBudgets.updatedAt,
};

/**
 * Sets what the org's judge wallet is funded with each month in `currency`, audited with before and
 * after; amount 0 removes the budget (the wallet keeps what it holds). The caller checks currency.
 */
export async function setJudgeBudget(
  db: Db,
  params: JudgeBudgetKey & { amount: bigint; actor: string },
): Promise<JudgeBudget | undefined> {
  if (params.amount < 0n)
    throw new InvalidAmountError(`A judge budget must be at least 0, got ${params.amount}.`, { field: 'amount' });
  const key = and(eq(judgeBudgets.orgId, params.orgId), eq(judgeBudgets.currency, params.currency));
  return db.transaction(async (tx) => {
    const [previous] = await tx.select({ amount: judgeBudgets.amount }).from(judgeBudgets).where(key).for('update');
    const audit = (action: string, after: unknown) =>
      writeAudit(tx, {
        orgId: params.orgId,
        actor: params.actor,
        action,
        entityType: 'judge_budget',
        entityId: `${params.orgId}:${params.currency}`,
        before: previous === undefined ? null : { amount: previous.amount },
        after,
      });
    if (params.amount === 0n) {
      if (previous === undefined) return undefined;
      await tx.delete(judgeBudgets).where(key);
      await audit('judge_budget.remove', null);
      return undefined;
    }
    const [row] = await tx
      .insert(judgeBudgets)
      .values({ orgId: params.orgId, currency: params.currency, amount: params.amount, updatedBy: params.actor })
      .onConflictDoUpdate({
        target: [judgeBudgets.orgId, judgeBudgets.currency],
        set: { amount: params.amount, updatedBy: params.actor, updatedAt: sql`now()` },
      })
      .returning(budgetColumns);
    if (row === undefined) throw new Error('upsert into judge_budgets returned no row');
    await audit('judge_budget.set', { amount: params.amount });
    return row;
  });
}

/** The org's judge budgets, by currency. */
export async function listJudgeBudgets(db: Db, params: { orgId: string }): Promise<JudgeBudget[]> {
  return db
    .select(budgetColumns)
    .from(judgeBudgets)
    .where(eq(judgeBudgets.orgId, params.orgId))
    .orderBy(asc(judgeBudgets.currency))
    .limit(judgeBudgetsPageSizeMax);
}

/** One page of every org's judge budgets in key order, after `after` (exclusive); for the monthly funding run. */
export async function pageJudgeBudgets(
  db: Db,
  params: { after?: JudgeBudgetKey; limit: number },
): Promise<JudgeBudget[]> {
  const limit = Math.min(Math.max(params.limit, 1), judgeBudgetsPageSizeMax);
  const after = params.after;
  return db
    .select(budgetColumns)
    .from(judgeBudgets)
    .where(
      after === undefined
        ? undefined
        : sql`(${judgeBudgets.orgId}, ${judgeBudgets.currency}) > (${after.orgId}::uuid, ${after.currency})`,
    )
    .orderBy(asc(judgeBudgets.orgId), asc(judgeBudgets.currency))
    .limit(limit);
}
