import { abExperimentKeySchema } from '@tokenwise/core';
import { listExperimentResults, type ExperimentResultRow } from '@tokenwise/db';
import { submitExperimentResults, submitResultsInput } from '@tokenwise/control';
import { z } from 'zod';
import { pageSize } from '../inputs';
import { experimentsProcedure, router } from '../trpc';

/** A stored result as the platform sees it: named columns, times as ISO text. */
function resultView(row: ExperimentResultRow) {
  return {
    resultId: row.resultId,
    experimentKey: row.experimentKey,
    metricId: row.metricId,
    higherIsBetter: row.higherIsBetter,
    startedAt: row.startedAt.toISOString(),
    endedAt: row.endedAt?.toISOString() ?? null,
    variations: row.variations,
    taggedRequests: row.taggedRequests,
    assignedUsers: row.assignedUsers,
    unmatchedAssignments: row.unmatchedAssignments,
    signalledSettlements: row.signalledSettlements,
    skippedSettlements: row.skippedSettlements,
    relayedAt: row.relayedAt?.toISOString() ?? null,
    submittedAt: row.createdAt.toISOString(),
  };
}

export const experimentsRouter = router({
  /**
   * Stores an A/B result for the key's org; the worker's relay then wakes the settlements of the
   * requests tagged with its experiment. Redelivery of the same result is a no-op.
   */
  submitResults: experimentsProcedure
    .input(submitResultsInput)
    .mutation(({ ctx, input }) => submitExperimentResults(ctx.db, { service: ctx.service, input })),

  /** The key's org's results, newest first, optionally of one experiment, with the relay's progress. */
  results: experimentsProcedure
    .input(z.strictObject({ experimentKey: abExperimentKeySchema.optional(), limit: pageSize }).default({ limit: 50 }))
    .query(async ({ ctx, input }) => {
      const rows = await listExperimentResults(ctx.db, {
        orgId: ctx.service.orgId,
        experimentKey: input.experimentKey,
        limit: input.limit,
      });
      return rows.map(resultView);
    }),
});
