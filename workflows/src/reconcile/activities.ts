import type { Client } from '@temporalio/client';
import { executeRows, type Db } from '@tokenwise/db';
import { checkInvariants, type Ledger } from '@tokenwise/ledger';
import { sql } from 'drizzle-orm';

export interface ReconcileDeps {
  db: Db;
  ledger: Ledger;
  client: Client;
  taskQueue: string;
  /** Closes admissions whose request never completed (the gateway's own function, injected). */
  closeAbandonedAdmissions: (olderThan: Date) => Promise<number>;
}

export interface DriftReport {
  admissions: number;
  usageRows: number;
  /** Admitted, no usage row, a hold still open: what the next pass will close once old enough. */
  openAdmissions: number;
  /** Charged, settleable, and no settlement yet. */
  unsettled: number;
  invariantViolations: string[];
}

/** Requests re-driven per pass, at most. */
const redriveBatchMax = 100;

/** Activities of the reconciliation schedule: close what died, re-drive what stalled, report drift. */
export function createReconcileActivities(deps: ReconcileDeps) {
  return {
    async closeAbandoned(input: { olderThanMs: number }): Promise<number> {
      return deps.closeAbandonedAdmissions(new Date(Date.now() - input.olderThanMs));
    },

    async expireHolds(): Promise<number> {
      return deps.ledger.expireDue();
    },

    /**
     * Usage that was handed to Temporal long ago and still has no settlement: if its workflow is
     * gone or failed, a new one is started (`settle-<id>-r<n>`); the transfer ids keep it exactly-once.
     */
    async redriveUnsettled(input: { olderThanMs: number }): Promise<number> {
      const rows = await executeRows<{ request_id: string }>(
        deps.db,
        sql`select u.request_id from usage_records u
          join outbox o on o.request_id = u.request_id and o.kind = 'settle' and o.delivered_at is not null
          left join settlements s on s.request_id = u.request_id
          where not u.system and s.request_id is null and u.created_at < ${new Date(Date.now() - input.olderThanMs).toISOString()}::timestamptz
          order by u.created_at limit ${redriveBatchMax}`,
      );
      let redriven = 0;
      for (const { request_id: requestId } of rows) {
        const status = await deps.client.workflow
          .getHandle(`settle-${requestId}`)
          .describe()
          .then((description) => description.status.name)
          .catch(() => 'NOT_FOUND');
        if (status === 'RUNNING' || status === 'CONTINUED_AS_NEW') continue;
        await deps.client.workflow
          .start('settleUsage', {
            taskQueue: deps.taskQueue,
            workflowId: `settle-${requestId}-r${Date.now()}`,
            args: [{ requestId }],
          })
          .then(() => redriven++);
      }
      return redriven;
    },

    async reportDrift(): Promise<DriftReport> {
      const [counts] = await executeRows<{
        admissions: number;
        usage_rows: number;
        open_admissions: number;
        unsettled: number;
      }>(
        deps.db,
        sql`select
          (select count(*)::int from gateway_requests) as admissions,
          (select count(*)::int from usage_records) as usage_rows,
          (select count(*)::int from gateway_requests g where not exists (select 1 from usage_records u where u.request_id = g.request_id)
             and exists (select 1 from ledger_transfers t where t.type = 'pending' and t.id like 'hold-' || g.request_id || '-%'
               and not exists (select 1 from ledger_transfers r where r.pending_id = t.id))) as open_admissions,
          (select count(*)::int from usage_records u where not u.system and not exists (select 1 from settlements s where s.request_id = u.request_id)) as unsettled`,
      );
      return {
        admissions: counts?.admissions ?? 0,
        usageRows: counts?.usage_rows ?? 0,
        openAdmissions: counts?.open_admissions ?? 0,
        unsettled: counts?.unsettled ?? 0,
        invariantViolations: await checkInvariants(deps.db),
      };
    },
  };
}
