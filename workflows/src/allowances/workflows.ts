import { continueAsNew, proxyActivities } from '@temporalio/workflow';
import type { AllowanceCounts, AllowanceCursor, createAllowanceActivities } from './activities';

const { grantScheduledAllowances } = proxyActivities<ReturnType<typeof createAllowanceActivities>>({
  // One page: at most usersPerPage ledger grants, committed in a few batches.
  startToCloseTimeout: '2 minutes',
  retry: { initialInterval: '5 seconds', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 5 },
});

/** Activity calls per run before it continues as new, so its history stays small however many users there are. */
export const allowancePagesPerRunMax = 200;

export interface AllowanceRunInput {
  /** Users granted per activity call (1..500). */
  usersPerPage: number;
  /** Activity calls before continuing as new (1..allowancePagesPerRunMax, default the max). */
  pagesPerRun?: number;
  /** The instant whose month is granted; set once, so a run that continues as new grants the same month. */
  at?: string;
  /** Where a continued run resumes, and what it granted so far. */
  cursor?: AllowanceCursor;
  totals?: AllowanceCounts;
}

export type AllowanceRunResult = AllowanceCounts;

/** Grants this month's allowance of every schedule to every user holding its role (run hourly by a Temporal Schedule). */
export async function grantAllowances(input: AllowanceRunInput): Promise<AllowanceRunResult> {
  const at = input.at ?? new Date().toISOString();
  const totals: AllowanceCounts = { granted: 0, alreadyGranted: 0, conflicting: 0, ...input.totals };
  const pagesPerRun = Math.min(
    Math.max(Math.floor(input.pagesPerRun ?? allowancePagesPerRunMax), 1),
    allowancePagesPerRunMax,
  );
  let cursor = input.cursor;
  for (let page = 0; page < pagesPerRun; page++) {
    const result = await grantScheduledAllowances({ cursor, usersMax: input.usersPerPage, at });
    totals.granted += result.granted;
    totals.alreadyGranted += result.alreadyGranted;
    totals.conflicting += result.conflicting;
    if (result.refused !== undefined && result.refused > 0) totals.refused = (totals.refused ?? 0) + result.refused;
    if (result.next === undefined) return totals;
    cursor = result.next;
  }
  return continueAsNew<typeof grantAllowances>({ usersPerPage: input.usersPerPage, pagesPerRun, at, cursor, totals });
}
