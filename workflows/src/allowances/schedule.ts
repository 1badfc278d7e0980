import { ScheduleAlreadyRunning, ScheduleOverlapPolicy, type Client } from '@temporalio/client';
import type { Duration } from '@temporalio/common';
import type { AllowanceRunInput } from './workflows';

export const allowanceScheduleId = 'tokenwise-allowances';

/**
 * Creates the allowance schedule once; a restart finds it already there and leaves it. Hourly, so a
 * new user gets this month's allowance within the hour; the ledger grants each wallet once a month.
 */
export async function ensureAllowanceSchedule(
  client: Client,
  options: { taskQueue: string; every: string; input: AllowanceRunInput },
): Promise<'created' | 'exists'> {
  try {
    await client.schedule.create({
      scheduleId: allowanceScheduleId,
      // An ms-style string ('5 minutes'); Temporal parses it and refuses a malformed one at create.
      spec: { intervals: [{ every: options.every as Duration }] },
      policies: { overlap: ScheduleOverlapPolicy.SKIP },
      action: {
        type: 'startWorkflow',
        workflowType: 'grantAllowances',
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
