import { proxyActivities } from '@temporalio/workflow';
import type { Amount } from '@tokenwise/core';
import type { createPlatformActivities } from './activities';

const { databaseStatus } = proxyActivities<ReturnType<typeof createPlatformActivities>>({
  startToCloseTimeout: '10 seconds',
  retry: {
    initialInterval: '200 milliseconds',
    backoffCoefficient: 2,
    maximumInterval: '2 seconds',
    maximumAttempts: 5,
  },
});

export interface PlatformCheckInput {
  /** Echoed back: proves amounts cross workflow and activity payloads intact. */
  amount: Amount;
}

export interface PlatformCheckResult {
  amount: Amount;
  doubled: Amount;
  backend: string;
  migrationsApplied: number;
  migrationsPending: string[];
}

/** End-to-end health of the worker: a workflow task, an activity on the database, bigint payloads. */
export async function platformCheck(input: PlatformCheckInput): Promise<PlatformCheckResult> {
  const status = await databaseStatus({ amount: input.amount });
  return {
    amount: input.amount,
    doubled: status.amount * 2n,
    backend: status.backend,
    migrationsApplied: status.migrationsApplied,
    migrationsPending: status.migrationsPending,
  };
}
