import { log } from '@temporalio/activity';
import { IdempotencyConflictError, invariant } from '@tokenwise/core';
import { allowanceUsersPageSizeMax, getAllowanceSchedule, pageAllowanceSchedules, pageUserIdsWithRole, type AllowanceSchedule, type AllowanceScheduleKey, type Db } from '@tokenwise/db';
import { orgs } from '@tokenwise/db/schema';
import { type Ledger } from '@tokenwise/ledger';
import { eq } from 'drizzle-orm';

export interface AllowanceDeps {
  db: Db;
  ledger: Ledger;
}

/** Where a run stands: after schedule `after` (all done), or inside `schedule` after user `afterUserId`. */
export type AllowanceCursor = { after: AllowanceScheduleKey } | { schedule: AllowanceScheduleKey; afterUserId: string };

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
}

export interface AllowancePage extends AllowanceCounts {
  /** Where the next call starts; undefined when every schedule is done. */
  next?: AllowanceCursor;
}

/** Who the ledger records as granting scheduled allowances. */
export const allowanceActor = 'system:allowance-schedule';

const keyOf = (schedule: AllowanceSchedule): AllowanceScheduleKey => ({ orgId: schedule.orgId, role: schedule.role, currency: schedule.currency });

/** Activities of the allowance schedule: grant this month's allowance of every schedule, a page of users at a time. */
export function createAllowanceActivities(deps: AllowanceDeps) {
  async function scheduleAt(cursor: AllowanceCursor | undefined): Promise<{ schedule: AllowanceSchedule; afterUserId?: string } | { next?: AllowanceCursor }> {
    if (cursor !== undefined && 'schedule' in cursor) {
      const schedule = await getAllowanceSchedule(deps.db, cursor.schedule);
      // Removed since the last page: carry on with the schedules after it.
      return schedule === undefined ? { next: { after: cursor.schedule } } : { schedule, afterUserId: cursor.afterUserId };
    }
    const [schedule] = await pageAllowanceSchedules(deps.db, { after: cursor?.after, limit: 1 });
    return schedule === undefined ? {} : { schedule };
  }

  async function grantOne(schedule: AllowanceSchedule, params: { userId: string; at: Date; timeZone: string }): Promise<keyof AllowanceCounts> {
    const wallet = await deps.ledger.ensureAccount({ ownerType: 'user', ownerId: params.userId, orgId: schedule.orgId, currency: schedule.currency, purpose: 'wallet' });
    try {
      const result = await deps.ledger.grantAllowance({ to: wallet.id, currency: schedule.currency, amount: schedule.amount, at: params.at, timeZone: params.timeZone, actor: allowanceActor, orgId: schedule.orgId });
      return result.duplicate ? 'alreadyGranted' : 'granted';
    } catch (error) {
      if (error instanceof IdempotencyConflictError) return 'conflicting';
      throw error;
    }
  }

  return {
    /**
     * Grants the month of `at` (in each org's time zone) to at most `usersMax` users of one schedule,
     * starting at `cursor`. Idempotent: the ledger's allowance ids are per wallet and month.
     */
    async grantScheduledAllowances(input: { cursor?: AllowanceCursor; usersMax: number; at: string }): Promise<AllowancePage> {
      invariant(Number.isInteger(input.usersMax) && input.usersMax >= 1 && input.usersMax <= allowanceUsersPageSizeMax, `usersMax must be 1..${allowanceUsersPageSizeMax}`);
      const counts: AllowanceCounts = { granted: 0, alreadyGranted: 0, conflicting: 0 };
      const found = await scheduleAt(input.cursor);
      if (!('schedule' in found)) return { ...counts, next: found.next };
      const { schedule } = found;
      const [org] = await deps.db.select({ timeZone: orgs.timeZone }).from(orgs).where(eq(orgs.id, schedule.orgId)).limit(1);
      invariant(org !== undefined, `allowance schedule of a missing org ${schedule.orgId}`);
      const userIds = await pageUserIdsWithRole(deps.db, { orgId: schedule.orgId, role: schedule.role, afterId: found.afterUserId, limit: input.usersMax });
      const at = new Date(input.at);
      // Concurrent, so the ledger's writer commits the page in few batches.
      const outcomes = await Promise.all(userIds.map((userId) => grantOne(schedule, { userId, at, timeZone: org.timeZone })));
      for (const outcome of outcomes) counts[outcome]++;
      if (counts.conflicting > 0) {
        log.warn('wallets already granted another allowance this month keep it', { ...keyOf(schedule), amount: schedule.amount.toString(), conflicting: counts.conflicting });
      }
      const last = userIds.at(-1);
      const next: AllowanceCursor = userIds.length < input.usersMax || last === undefined ? { after: keyOf(schedule) } : { schedule: keyOf(schedule), afterUserId: last };
      return { ...counts, next };
    },
  };
}
