import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import { WorkflowIdReusePolicy } from '@temporalio/common';
import { countOutboxAttempt, markOutboxDelivered, pendingOutboxRows, type Db } from '@tokenwise/db';
import { startRelayLoop, type OutboxRelay } from '../relay-loop';

/** Outbox rows handed to Temporal per pass. */
export const relayBatchMax = 100;
/** Longest one workflow start may take before the relay gives up on it for this pass. */
const startDeadlineMs = 5_000;
/** Workflow starts in flight at once. */
export const relayStartsInFlightMax = 16;

export type { OutboxRelay } from '../relay-loop';

/** The workflow id of a request's settlement: one per request, ever. */
export function settlementWorkflowId(requestId: string): string {
  return `settle-${requestId}`;
}

/**
 * Relays the gateway's outbox to Temporal: one `settleUsage` per request, id `settle-<requestId>`,
 * REJECT_DUPLICATE. A row is marked delivered only after Temporal accepted (or already had) the
 * workflow, so a relay crash or a Temporal outage loses nothing: rows wait and go later.
 */
export function startOutboxRelay(deps: {
  db: Db;
  client: Client;
  taskQueue: string;
  intervalMs?: number;
  log?: (line: string) => void;
}): OutboxRelay {
  const runOnce = async (): Promise<number> => {
    const rows = await pendingOutboxRows(deps.db, { kind: 'settle', limit: relayBatchMax });
    // Starts go out a few at a time; a row is marked delivered only once Temporal has its workflow.
    const delivered: bigint[] = [];
    let firstError: unknown;
    let next = 0;
    const startOne = async () => {
      while (next < rows.length) {
        const row = rows[next++] as (typeof rows)[number];
        try {
          // Fail fast when Temporal is down: the relay backs off on its own, rows simply wait.
          await deps.client.connection.withDeadline(Date.now() + startDeadlineMs, () =>
            deps.client.workflow.start('settleUsage', {
              taskQueue: deps.taskQueue,
              workflowId: settlementWorkflowId(row.requestId),
              workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
              args: [{ requestId: row.requestId }],
            }),
          );
          delivered.push(row.id);
        } catch (error) {
          if (error instanceof WorkflowExecutionAlreadyStartedError) {
            delivered.push(row.id);
            continue;
          }
          firstError ??= error;
          await countOutboxAttempt(deps.db, { id: row.id });
          return;
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(relayStartsInFlightMax, rows.length) }, startOne));
    if (delivered.length > 0) await markOutboxDelivered(deps.db, { ids: delivered });
    if (firstError !== undefined) throw firstError;
    return rows.length;
  };

  return startRelayLoop({
    runOnce,
    batchMax: relayBatchMax,
    intervalMs: deps.intervalMs ?? 500,
    log: deps.log ?? ((line: string) => process.stderr.write(`relay: ${line}\n`)),
  });
}
