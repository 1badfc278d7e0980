import { log } from '@temporalio/activity';
import { IdempotencyConflictError, invariant, LimitExceededError } from '@tokenwise/core';
import {
  allowanceUsersPageSizeMax,
  findOrgTimeZone,
  getAllowanceSchedule,
  pageAllowanceSchedules,
  pageJudgeBudgets,
  pageUserIdsWithRole,
  type AllowanceSchedule,
  type AllowanceScheduleKey,
  type Db,
  type JudgeBudget,
  type JudgeBudgetKey,
} from '@tokenwise/db';
import { judgeWalletKey, type Ledger } from '@tokenwise/ledger';

export interface AllowanceDeps {
  db: Db;
  ledger: Ledger;
}

/**
 * Where a run stands: after schedule `after` (all done), inside `schedule` after user `afterUserId`,
 * or, once every schedule is done, funding the orgs' judge budgets after `judgeAfter`.
 */
export type AllowanceCursor =
  | { after: AllowanceScheduleKey }
  | { schedule: AllowanceScheduleKey; afterUserId: string }
  | { judgeBudgets: true; judgeAfter?: JudgeBudgetKey };

export interface AllowanceCounts {
  /** Allowances moved by this call. */
  granted: number;
  /** Users whose wallet already had this month's allowance, with the same amount. */
  alreadyGranted: number;
  /**
   * Users whose wallet already had this month's allowance with another amount (a second role's
   * schedule in the same currency, an amount changed this month, a manual grants.allowance): one
   * allowance per wallet and month, so it stays as it is until next month.
   */
  conflicting: number;
  /**
   * Users not granted because the org's grant bounds leave no room this month (histories recorded
   * before this count existed lack it).
   */
  refused?: number;
}

export interface AllowancePage extends AllowanceCounts {
  /** Where the next call starts; undefined when every schedule is done. */
  next?: AllowanceCursor;
}

/** Who the ledger records as granting scheduled allowances. */
export const allowanceActor = 'system:allowance-schedule';
/** Who the ledger records as funding judge wallets from their org's judge budget. */
export const judgeBudgetActor = 'system:judge-budget';

type GrantOutcome = 'granted' | 'alreadyGranted' | 'conflicting' | 'refused';

/** A monthly grant's outcome: a conflict (another amount already this month) and a spent bound are counted, not retried. */
async function grantMonthly(grant: () => Promise<{ duplicate: boolean }>): Promise<GrantOutcome> {
  try {
    return (await grant()).duplicate ? 'alreadyGranted' : 'granted';
  } catch (error) {
    if (error instanceof IdempotencyConflictError) return 'conflicting';
    if (error instanceof LimitExceededError) return 'refused';
    throw error;
  }
}

const keyOf = (schedule: AllowanceSchedule): AllowanceScheduleKey => ({
  orgId: schedule.orgId,
  role: schedule.role,
  currency: schedule.currency,
});

/** Activities of the allowance schedule: grant this month's allowance of every schedule, a page of users at a time. */
export function createAllowanceActivities(deps: AllowanceDeps) {
  async function scheduleAt(
    cursor: { after: AllowanceScheduleKey } | { schedule: AllowanceScheduleKey; afterUserId: string } | undefined,
  ): Promise<{ schedule: AllowanceSchedule; afterUserId?: string } | { next?: AllowanceCursor }> {
    if (cursor !== undefined && 'schedule' in cursor) {
      const schedule = await getAllowanceSchedule(deps.db, cursor.schedule);
      // Removed since the last page: carry on with the schedules after it.
      return schedule === undefined
        ? { next: { after: cursor.schedule } }
        : { schedule, afterUserId: cursor.afterUserId };
    }
    const [schedule] = await pageAllowanceSchedules(deps.db, { after: cursor?.after, limit: 1 });
    return schedule === undefined ? {} : { schedule };
  }

  async function grantOne(
    schedule: AllowanceSchedule,
    params: { userId: string; at: Date; timeZone: string },
  ): Promise<GrantOutcome> {
    const wallet = await deps.ledger.ensureAccount({
      ownerType: 'user',
      ownerId: params.userId,
      orgId: schedule.orgId,
      currency: schedule.currency,
      purpose: 'wallet',
    });
    return grantMonthly(() =>
      deps.ledger.grantAllowance({
        to: wallet.id,
        currency: schedule.currency,
        amount: schedule.amount,
        at: params.at,
        timeZone: params.timeZone,
        actor: allowanceActor,
        orgId: schedule.orgId,
      }),
    );
  }

  async function fundJudgeWallet(budget: JudgeBudget, at: Date): Promise<GrantOutcome> {
    const timeZone = await findOrgTimeZone(deps.db, { orgId: budget.orgId });
    invariant(timeZone !== undefined, `judge budget of a missing org ${budget.orgId}`);
    const wallet = await deps.ledger.ensureAccount(judgeWalletKey(budget));
    return grantMonthly(() =>
      deps.ledger.grantAllowance({
        to: wallet.id,
        currency: budget.currency,
        amount: budget.amount,
        at,
        timeZone,
        actor: judgeBudgetActor,
        orgId: budget.orgId,
      }),
    );
  }

  /** One page of judge budgets: each org's judge wallet gets this month's budget once. */
  async function fundJudgeBudgets(after: JudgeBudgetKey | undefined, limit: number, at: Date): Promise<AllowancePage> {
    const counts: Required<AllowanceCounts> = { granted: 0, alreadyGranted: 0, conflicting: 0, refused: 0 };
    const budgets = await pageJudgeBudgets(deps.db, { after, limit });
    for (const outcome of await Promise.all(budgets.map((budget) => fundJudgeWallet(budget, at)))) counts[outcome]++;
    if (counts.refused > 0)
      log.warn("judge budgets the orgs' grant bounds leave no room for this month were not funded", {
        refused: counts.refused,
      });
    const last = budgets.at(-1);
    return {
      ...counts,
      next:
        budgets.length < limit || last === undefined
          ? undefined
          : { judgeBudgets: true, judgeAfter: { orgId: last.orgId, currency: last.currency } },
    };
  }

  return {
    /**
     * Grants the month of `at` (in each org's time zone) to at most `usersMax` users of one schedule,
     * starting at `cursor`. Idempotent: the ledger's allowance ids are per wallet and month.
     */
    async grantScheduledAllowances(input: {
      cursor?: AllowanceCursor;
      usersMax: number;
      at: string;
    }): Promise<AllowancePage> {
      invariant(
        Number.isInteger(input.usersMax) && input.usersMax >= 1 && input.usersMax <= allowanceUsersPageSizeMax,
        `usersMax must be 1..${allowanceUsersPageSizeMax}`,
      );
      const at = new Date(input.at);
      if (input.cursor !== undefined && 'judgeBudgets' in input.cursor)
        return fundJudgeBudgets(input.cursor.judgeAfter, input.usersMax, at);
      const counts: Required<AllowanceCounts> = { granted: 0, alreadyGranted: 0, conflicting: 0, refused: 0 };
      const found = await scheduleAt(input.cursor);
      // Every schedule done: the judge budgets are next, when any org has one.
      if (!('schedule' in found))
        return {
          ...counts,
          next:
            found.next ??
            ((await pageJudgeBudgets(deps.db, { limit: 1 })).length > 0 ? { judgeBudgets: true } : undefined),
        };
      const { schedule } = found;
      const timeZone = await findOrgTimeZone(deps.db, { orgId: schedule.orgId });
      invariant(timeZone !== undefined, `allowance schedule of a missing org ${schedule.orgId}`);
      const userIds = await pageUserIdsWithRole(deps.db, {
        orgId: schedule.orgId,
        role: schedule.role,
        afterId: found.afterUserId,
        limit: input.usersMax,
      });
      // Concurrent, so the ledger's writer commits the page in few batches.
      const outcomes = await Promise.all(userIds.map((userId) => grantOne(schedule, { userId, at, timeZone })));
      for (const outcome of outcomes) counts[outcome]++;
      if (counts.refused > 0) {
        log.warn("allowances the org's grant bounds leave no room for this month were not granted", {
          ...keyOf(schedule),
          amount: schedule.amount.toString(),
          refused: counts.refused,
        });
      }
      if (counts.conflicting > 0) {
        log.warn('wallets already granted another allowance this month keep it', {
          ...keyOf(schedule),
          amount: schedule.amount.toString(),
          conflicting: counts.conflicting,
        });
      }
      const last = userIds.at(-1);
      const next: AllowanceCursor =
        userIds.length < input.usersMax || last === undefined
          ? { after: keyOf(schedule) }
          : { schedule: keyOf(schedule), afterUserId: last };
      return { ...counts, next };
    },
  };
}
