import { log, proxyActivities } from '@temporalio/workflow';
import type { createReconcileActivities, DriftReport } from './activities';

const { closeAbandoned, expireHolds, redriveUnsettled, reportDrift } = proxyActivities<
  ReturnType<typeof createReconcileActivities>
>({
  startToCloseTimeout: '5 minutes',
  retry: { initialInterval: '5 seconds', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 5 },
});

export interface ReconcileInput {
  /** Admissions older than this without a usage row are abandoned (longer than any request may run). */
  abandonedAfterMs: number;
  /** Usage handed to Temporal this long ago without a settlement is re-driven (longer than any evidence window). */
  unsettledAfterMs: number;
}

export interface ReconcileResult {
  closedAdmissions: number;
  expiredHolds: number;
  redriven: number;
  drift: DriftReport;
}

/** One reconciliation pass (run by a Temporal Schedule): close, expire, re-drive, then report drift. */
export async function reconcileLedger(input: ReconcileInput): Promise<ReconcileResult> {
  const closedAdmissions = await closeAbandoned({ olderThanMs: input.abandonedAfterMs });
  const expiredHolds = await expireHolds();
  const redriven = await redriveUnsettled({ olderThanMs: input.unsettledAfterMs });
  const drift = await reportDrift();
  if (drift.invariantViolations.length > 0)
    log.error('ledger invariants violated', { violations: drift.invariantViolations });
  return { closedAdmissions, expiredHolds, redriven, drift };
}
