import { log, patched, proxyActivities } from '@temporalio/workflow';
import type { createReconcileActivities, DriftReport } from './activities';

const { closeAbandoned, expireHolds, purgeEvidenceIndex, redriveUnsettled, reportDrift } = proxyActivities<
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
  /** Evidence-index keys of closed evidence windows deleted (absent from passes before the patch). */
  purgedEvidenceKeys?: number;
}

/** Passes started after this patch also purge the evidence index. */
export const purgeEvidenceIndexPatch = 'purge-evidence-index';

/** One reconciliation pass (run by a Temporal Schedule): close, expire, re-drive, then report drift. */
export async function reconcileLedger(input: ReconcileInput): Promise<ReconcileResult> {
  const closedAdmissions = await closeAbandoned({ olderThanMs: input.abandonedAfterMs });
  const expiredHolds = await expireHolds();
  const redriven = await redriveUnsettled({ olderThanMs: input.unsettledAfterMs });
  const purgedEvidenceKeys = patched(purgeEvidenceIndexPatch) ? await purgeEvidenceIndex() : undefined;
  const drift = await reportDrift();
  if (drift.invariantViolations.length > 0)
    log.error('ledger invariants violated', { violations: drift.invariantViolations });
  return {
    closedAdmissions,
    expiredHolds,
    redriven,
    drift,
    ...(purgedEvidenceKeys === undefined ? {} : { purgedEvidenceKeys }),
  };
}
