import { ScheduleAlreadyRunning, ScheduleOverlapPolicy, type Client } from '@temporalio/client';
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
      spec: { intervals: [{ every: options.every }] },
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
