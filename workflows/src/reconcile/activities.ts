import type { Client } from '@temporalio/client';
import { purgeExpiredEvidenceKeys, reconcileDriftCounts, unsettledDeliveredRequestIds, type Db } from '@tokenwise/db';
import { checkInvariants, type Ledger } from '@tokenwise/ledger';
import { settlementWorkflowId } from '../settlement/relay';

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
/** Evidence keys deleted per statement, and statements per pass: a pass purges at most 200,000 keys. */
const purgeBatchMax = 10_000;
const purgeBatchesMax = 20;

/** Activities of the reconciliation schedule: close what died, re-drive what stalled, report drift. */
export function createReconcileActivities(deps: ReconcileDeps) {
  return {
    async closeAbandoned(input: { olderThanMs: number }): Promise<number> {
      return deps.closeAbandonedAdmissions(new Date(Date.now() - input.olderThanMs));
    },

    /** Drops evidence-index keys of requests whose evidence window closed. */
    async purgeEvidenceIndex(): Promise<number> {
      const now = new Date();
      let purged = 0;
      for (let batch = 0; batch < purgeBatchesMax; batch++) {
        const deleted = await purgeExpiredEvidenceKeys(deps.db, { now, limit: purgeBatchMax });
        purged += deleted;
        if (deleted < purgeBatchMax) break;
      }
      return purged;
    },

    async expireHolds(): Promise<number> {
      return deps.ledger.expireDue();
    },

    /**
     * Usage that was handed to Temporal long ago and still has no settlement: if its workflow is
     * gone or failed, a new one is started (`settle-<id>-r<n>`); the transfer ids keep it exactly-once.
     */
    async redriveUnsettled(input: { olderThanMs: number }): Promise<number> {
      const requestIds = await unsettledDeliveredRequestIds(deps.db, {
        createdBefore: new Date(Date.now() - input.olderThanMs),
        limit: redriveBatchMax,
      });
      let redriven = 0;
      for (const requestId of requestIds) {
        const status = await deps.client.workflow
          .getHandle(settlementWorkflowId(requestId))
          .describe()
          .then((description) => description.status.name)
          .catch(() => 'NOT_FOUND');
        if (status === 'RUNNING' || status === 'CONTINUED_AS_NEW') continue;
        await deps.client.workflow
          .start('settleUsage', {
            taskQueue: deps.taskQueue,
            workflowId: `${settlementWorkflowId(requestId)}-r${Date.now()}`,
            args: [{ requestId }],
          })
          .then(() => redriven++);
      }
      return redriven;
    },

    async reportDrift(): Promise<DriftReport> {
      return { ...(await reconcileDriftCounts(deps.db)), invariantViolations: await checkInvariants(deps.db) };
    },
  };
}
