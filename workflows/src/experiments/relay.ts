import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import {
  abEvidenceId,
  abEvidenceSource,
  abResultsPluginId,
  fromJsonValue,
  type AbEvidencePayload,
  type AbVariation,
} from '@tokenwise/core';
import {
  advanceExperimentRelay,
  assignmentsOf,
  experimentHasRequestsOfOthers,
  findExperimentResultById,
  finishExperimentRelay,
  markOutboxDelivered,
  pageTaggedUsage,
  pendingExperimentResultOutboxRows,
  type Db,
  type ExperimentResultRow,
  type TaggedUsageRow,
} from '@tokenwise/db';
import type { ExternalEvidence } from '@tokenwise/plugin-sdk';
import { startRelayLoop, type OutboxRelay } from '../relay-loop';
import { externalEvidenceSignal } from '../settlement/queries';
import { settlementWorkflowId } from '../settlement/relay';

/** Result outbox rows taken per pass. */
export const experimentsRelayBatchMax = 10;
/** Tagged usage rows read per page; the cursor moves past a page once all its settlements were signalled. */
export const experimentsRelayPageMax = 500;
/** Signals in flight at once. */
export const experimentsRelaySignalsInFlightMax = 32;
/** Longest one signal may take before the pass gives up on it (and the page is retried). */
const signalDeadlineMs = 10_000;

/**
 * Runs `work` on every item with at most `limit` running at once; the first failure fails the whole
 * and starts no further item, so a failed pass does not keep signalling beside the one that retries it.
 */
async function forEachBounded<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  let failed = false;
  const lane = async () => {
    while (!failed && next < items.length) {
      try {
        await work(items[next++]!);
      } catch (error) {
        failed = true;
        throw error;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
}

/** The evidence payload one tagged request's settlement receives about `result`. */
export function abEvidenceFor(
  result: ExperimentResultRow,
  variations: AbVariation[],
  row: TaggedUsageRow & { variantKey: string; userId: string },
  facts: { assignedVariants: ReadonlySet<string> | undefined; selfSubmitted: boolean },
): ExternalEvidence {
  const createdAtMs = row.createdAt.getTime();
  const payload: AbEvidencePayload = {
    v: 1,
    resultId: result.resultId,
    experimentKey: result.experimentKey,
    metricId: result.metricId,
    higherIsBetter: result.higherIsBetter,
    variantKey: row.variantKey,
    variations,
    eligibility: {
      assigned: facts.assignedVariants?.has(row.variantKey) ?? false,
      duringExperiment:
        createdAtMs >= result.startedAt.getTime() &&
        (result.endedAt === null || createdAtMs < result.endedAt.getTime()),
      selfSubmitted: facts.selfSubmitted,
    },
  };
  return {
    pluginId: abResultsPluginId,
    evidenceId: abEvidenceId(result.resultId),
    source: abEvidenceSource,
    observedAt: result.createdAt.toISOString(),
    payload: payload as unknown as ExternalEvidence['payload'],
  };
}

/**
 * Relays each submitted A/B result to the settlements of the org's requests tagged with its
 * experiment: found through the usage rows' experiment index, never by scanning Temporal. Each
 * request's settlement gets one external-evidence signal (evidence id `ab-result-<resultId>`, so a
 * redelivery counts once) with what the plugin cannot check itself: was the user assigned to the
 * tagged variant, was the request made while the experiment ran, did the submitter's own requests
 * make up the whole experiment. A settlement that already closed (or never started) is skipped and
 * counted. Progress is a cursor on the result row: a crash or an outage resumes at the page it
 * stopped in; the outbox row is delivered once every tagged request was handled.
 */
export function startExperimentsRelay(deps: {
  db: Db;
  client: Client;
  intervalMs?: number;
  pageMax?: number;
  log?: (line: string) => void;
}): OutboxRelay {
  const pageMax = deps.pageMax ?? experimentsRelayPageMax;

  const signal = async (requestId: string, evidence: ExternalEvidence): Promise<'signalled' | 'skipped'> => {
    try {
      await deps.client.connection.withDeadline(Date.now() + signalDeadlineMs, () =>
        deps.client.workflow.getHandle(settlementWorkflowId(requestId)).signal(externalEvidenceSignal, evidence),
      );
      return 'signalled';
    } catch (error) {
      if (error instanceof WorkflowNotFoundError) return 'skipped';
      throw error;
    }
  };

  const relayPage = async (result: ExperimentResultRow, variations: AbVariation[], selfSubmitted: boolean) => {
    const rows = await pageTaggedUsage(deps.db, {
      orgId: result.orgId,
      experimentKey: result.experimentKey,
      afterRequestId: result.cursorRequestId,
      limit: pageMax,
    });
    if (rows.length === 0) return false;
    const userIds = [...new Set(rows.flatMap((row) => (row.userId === null ? [] : [row.userId])))];
    const assigned = new Map<string, Set<string>>();
    for (const { userId, variantKey } of await assignmentsOf(deps.db, { resultRowId: result.id, userIds })) {
      assigned.set(userId, (assigned.get(userId) ?? new Set()).add(variantKey));
    }
    let signalled = 0;
    let skipped = 0;
    await forEachBounded(rows, experimentsRelaySignalsInFlightMax, async (row) => {
      // System usage is never settled; a row without a variant cannot be judged.
      if (row.system || row.userId === null || row.variantKey === null) {
        skipped++;
        return;
      }
      const evidence = abEvidenceFor(
        result,
        variations,
        { ...row, userId: row.userId, variantKey: row.variantKey },
        {
          assignedVariants: assigned.get(row.userId),
          selfSubmitted,
        },
      );
      if ((await signal(row.requestId, evidence)) === 'signalled') signalled++;
      else skipped++;
    });
    const cursorRequestId = rows.at(-1)!.requestId;
    await advanceExperimentRelay(deps.db, { id: result.id, cursorRequestId, signalled, skipped });
    result.cursorRequestId = cursorRequestId;
    return rows.length === pageMax;
  };

  const relayResult = async (outboxId: bigint, resultRowId: string) => {
    const result = await findExperimentResultById(deps.db, { id: resultRowId });
    if (result === undefined) {
      await markOutboxDelivered(deps.db, { ids: [outboxId] });
      return;
    }
    const variations = fromJsonValue(result.variations) as AbVariation[];
    const selfSubmitted =
      result.submitterUserId !== null &&
      !(await experimentHasRequestsOfOthers(deps.db, {
        orgId: result.orgId,
        experimentKey: result.experimentKey,
        userId: result.submitterUserId,
      }));
    while (await relayPage(result, variations, selfSubmitted));
    await finishExperimentRelay(deps.db, { id: result.id, outboxId });
  };

  const runOnce = async (): Promise<number> => {
    const rows = await pendingExperimentResultOutboxRows(deps.db, { limit: experimentsRelayBatchMax });
    for (const row of rows) await relayResult(row.outboxId, row.resultRowId);
    return rows.length;
  };
  return startRelayLoop({
    runOnce,
    batchMax: experimentsRelayBatchMax,
    intervalMs: deps.intervalMs ?? 1_000,
    log: deps.log ?? ((line) => process.stderr.write(`[experiments relay] ${line}\n`)),
  });
}
