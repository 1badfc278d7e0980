import { ScheduleAlreadyRunning, ScheduleOverlapPolicy, type Client } from '@temporalio/client';
import type { Duration } from '@temporalio/common';
import type { ReconcileInput } from './workflows';

export const reconcileScheduleId = 'tokenwise-reconcile';

/** Creates the reconciliation schedule once; a restart finds it already there and leaves it. */
export async function ensureReconcileSchedule(
  client: Client,
  options: { taskQueue: string; every: string; input: ReconcileInput },
): Promise<'created' | 'exists'> {
  try {
    await client.schedule.create({
      scheduleId: reconcileScheduleId,
      // An ms-style string ('5 minutes'); Temporal parses it and refuses a malformed one at create.
      spec: { intervals: [{ every: options.every as Duration }] },
      policies: { overlap: ScheduleOverlapPolicy.SKIP },
      action: {
        type: 'startWorkflow',
        workflowType: 'reconcileLedger',
        taskQueue: options.taskQueue,
        args: [options.input],
      },
    });
    return 'created';
  } catch (error) {
    if (error instanceof ScheduleAlreadyRunning) return 'exists';
    throw error;
  }
}
