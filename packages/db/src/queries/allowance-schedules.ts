import { InvalidAmountError } from '@tokenwise/core';
import { and, asc, eq, gt, sql } from 'drizzle-orm';
import type { Db } from '../client';
import { allowanceSchedules, users, type Role } from '../schema/index';
import { writeAudit } from './audit';

export interface AllowanceSchedule {
  orgId: string;
  role: Role;
  currency: string;
  amount: bigint;
  updatedBy: string;
  updatedAt: Date;
}

/** Users one page of a schedule run reads, at most. */
export const allowanceUsersPageSizeMax = 500;
/** Schedules one page of a schedule run reads, at most (an org has at most roles x currencies). */
export const allowanceSchedulesPageSizeMax = 100;

const scheduleColumns = {
  orgId: allowanceSchedules.orgId,
  role: allowanceSchedules.role,
  currency: allowanceSchedules.currency,
  amount: allowanceSchedules.amount,
  updatedBy: allowanceSchedules.updatedBy,
  updatedAt: allowanceSchedules.updatedAt,
};

function toSchedule(row: {
  orgId: string;
  role: string;
  currency: string;
  amount: bigint;
  updatedBy: string;
  updatedAt: Date;
}): AllowanceSchedule {
  return { ...row, role: row.role as Role };
}

/**
 * Sets what every `role` of the org is granted each month in `currency`, with an audit row of before
 * and after; amount 0 removes the schedule. The caller checks currency; the database refuses an unknown role.
 */
export async function setAllowanceSchedule(
  db: Db,
  params: { orgId: string; role: Role; currency: string; amount: bigint; actor: string },
): Promise<AllowanceSchedule | undefined> {
  if (params.amount < 0n)
    throw new InvalidAmountError(`An allowance amount must be at least 0, got ${params.amount}.`, { field: 'amount' });
  const key = and(
    eq(allowanceSchedules.orgId, params.orgId),
    eq(allowanceSchedules.role, params.role),
    eq(allowanceSchedules.currency, params.currency),
  );
  return db.transaction(async (tx) => {
    // Locks the row (when there is one) so the audit's `before` is the value this write replaces.
    const [previous] = await tx
      .select({ amount: allowanceSchedules.amount })
      .from(allowanceSchedules)
      .where(key)
      .for('update');
    const entityId = `${params.orgId}:${params.role}:${params.currency}`;
    const audit = (action: string, after: unknown) =>
      writeAudit(tx, {
        orgId: params.orgId,
        actor: params.actor,
        action,
        entityType: 'allowance_schedule',
        entityId,
        before: previous === undefined ? null : { amount: previous.amount },
        after,
      });
    if (params.amount === 0n) {
      if (previous === undefined) return undefined;
      await tx.delete(allowanceSchedules).where(key);
      await audit('allowance_schedule.remove', null);
      return undefined;
    }
    const [row] = await tx
      .insert(allowanceSchedules)
      .values({
        orgId: params.orgId,
        role: params.role,
        currency: params.currency,
        amount: params.amount,
        updatedBy: params.actor,
      })
      .onConflictDoUpdate({
        target: [allowanceSchedules.orgId, allowanceSchedules.role, allowanceSchedules.currency],
        set: { amount: params.amount, updatedBy: params.actor, updatedAt: sql`now()` },
      })
      .returning(scheduleColumns);
    if (row === undefined) throw new Error('upsert into allowance_schedules returned no row');
    await audit('allowance_schedule.set', { amount: params.amount });
    return toSchedule(row);
  });
}

/** An org's allowance schedules, by role then currency. */
export async function listAllowanceSchedules(db: Db, params: { orgId: string }): Promise<AllowanceSchedule[]> {
  const rows = await db
    .select(scheduleColumns)
    .from(allowanceSchedules)
    .where(eq(allowanceSchedules.orgId, params.orgId))
    .orderBy(asc(allowanceSchedules.role), asc(allowanceSchedules.currency))
    .limit(allowanceSchedulesPageSizeMax);
  return rows.map(toSchedule);
}

export interface AllowanceScheduleKey {
  orgId: string;
  role: string;
  currency: string;
}

/** One page of every org's schedules, in key order, after `after` (exclusive); for the monthly grant run. */
export async function pageAllowanceSchedules(
  db: Db,
  params: { after?: AllowanceScheduleKey; limit: number },
): Promise<AllowanceSchedule[]> {
  const limit = Math.min(Math.max(params.limit, 1), allowanceSchedulesPageSizeMax);
  const after = params.after;
  const rows = await db
    .select(scheduleColumns)
    .from(allowanceSchedules)
    .where(
      after === undefined
        ? undefined
        : sql`(${allowanceSchedules.orgId}, ${allowanceSchedules.role}, ${allowanceSchedules.currency}) > (${after.orgId}::uuid, ${after.role}, ${after.currency})`,
    )
    .orderBy(asc(allowanceSchedules.orgId), asc(allowanceSchedules.role), asc(allowanceSchedules.currency))
    .limit(limit);
  return rows.map(toSchedule);
}

/** Ids of the org's users holding `role`, in id order, after `afterId` (exclusive). */
export async function pageUserIdsWithRole(
  db: Db,
  params: { orgId: string; role: Role; afterId?: string; limit: number },
): Promise<string[]> {
  const limit = Math.min(Math.max(params.limit, 1), allowanceUsersPageSizeMax);
  const rows = await db
    .select({ id: users.id })
    .from(users)
    .where(
      and(
        eq(users.orgId, params.orgId),
        sql`${params.role} = any(${users.roles})`,
        params.afterId === undefined ? undefined : gt(users.id, params.afterId),
      ),
    )
    .orderBy(asc(users.id))
    .limit(limit);
  return rows.map((row) => row.id);
}

/** One schedule by its key, or undefined when there is none (never set, or removed). */
export async function getAllowanceSchedule(db: Db, key: AllowanceScheduleKey): Promise<AllowanceSchedule | undefined> {
  const [row] = await db
    .select(scheduleColumns)
    .from(allowanceSchedules)
    .where(
      and(
        eq(allowanceSchedules.orgId, key.orgId),
        eq(allowanceSchedules.role, key.role),
        eq(allowanceSchedules.currency, key.currency),
      ),
    )
    .limit(1);
  return row === undefined ? undefined : toSchedule(row);
}

/**
 * Why some role holders get less than their schedules say: the ledger grants one allowance per
 * wallet and month, so a user holding two roles scheduled in one currency gets only the first one
 * granted (schedules are granted in role-name order). Pure; one message per such currency.
 */
export function allowanceOverlapWarnings(schedules: readonly AllowanceSchedule[]): string[] {
  const rolesByCurrency = new Map<string, string[]>();
  for (const schedule of schedules)
    rolesByCurrency.set(schedule.currency, [...(rolesByCurrency.get(schedule.currency) ?? []), schedule.role]);
  return [...rolesByCurrency]
    .filter(([, scheduled]) => scheduled.length > 1)
    .map(([currency, scheduled]) => {
      const sorted = [...scheduled].sort();
      return `roles ${sorted.join(', ')} all have a ${currency} allowance: a user holding several of them gets one ${currency} allowance a month, that of the first role in this order`;
    });
}
