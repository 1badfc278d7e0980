import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import { WorkflowIdReusePolicy } from '@temporalio/common';
import {
  carbonRaiseOutboxKinds,
  countOutboxAttempt,
  markOutboxDelivered,
  pendingCarbonRaiseOutboxRows,
  type Db,
  type PendingCarbonRaiseOutboxRow,
} from '@tokenwise/db';
import { startRelayLoop, type OutboxRelay } from '../relay-loop';
import { carbonRaiseDecidedSignal, carbonRaiseWorkflowId, type CarbonRaiseInput } from './signals';

/** Raise outbox rows handed to Temporal per pass (raises are few: one at a time is plenty). */
export const carbonRaiseRelayBatchMax = 50;
/** Longest one start or signal may take before the relay gives up on it for this pass. */
const callDeadlineMs = 5_000;

/**
 * Relays raise outbox rows to Temporal: a `carbon_raise_start` row starts `carbonRaise`
 * (`carbon-raise-<raiseId>`, REJECT_DUPLICATE: already started counts as delivered); a
 * `carbon_raise_decided` row signals it, with signalWithStart, so a decision whose start row has not
 * gone yet is not lost. A row is marked delivered only once Temporal accepted it, so a Temporal
 * outage or a relay crash loses nothing.
 */
export function startCarbonRaiseRelay(deps: {
  db: Db;
  client: Client;
  taskQueue: string;
  intervalMs?: number;
  log?: (line: string) => void;
}): OutboxRelay {
  const deliver = async (row: PendingCarbonRaiseOutboxRow) => {
    const options = {
      taskQueue: deps.taskQueue,
      workflowId: carbonRaiseWorkflowId(row.raiseId),
      workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
      args: [{ raiseId: row.raiseId, deadlineAt: row.deadlineAt.toISOString() }] as [CarbonRaiseInput],
    };
    await deps.client.connection.withDeadline(Date.now() + callDeadlineMs, async () => {
      if (row.kind === carbonRaiseOutboxKinds.start) await deps.client.workflow.start('carbonRaise', options);
      else
        await deps.client.workflow.signalWithStart('carbonRaise', {
          ...options,
          signal: carbonRaiseDecidedSignal,
          signalArgs: [{ raiseId: row.raiseId }],
        });
    });
  };

  const runOnce = async (): Promise<number> => {
    const rows = await pendingCarbonRaiseOutboxRows(deps.db, { limit: carbonRaiseRelayBatchMax });
    const delivered: bigint[] = [];
    let failure: unknown;
    for (const row of rows) {
      try {
        await deliver(row);
        delivered.push(row.id);
      } catch (error) {
        // Started already (the start row), or closed after its decision (a late decided row): delivered.
        if (error instanceof WorkflowExecutionAlreadyStartedError) {
          delivered.push(row.id);
          continue;
        }
        failure = error;
        await countOutboxAttempt(deps.db, { id: row.id });
        break;
      }
    }
    if (delivered.length > 0) await markOutboxDelivered(deps.db, { ids: delivered });
    if (failure !== undefined) throw failure;
    return rows.length;
  };

  return startRelayLoop({
    runOnce,
    batchMax: carbonRaiseRelayBatchMax,
    intervalMs: deps.intervalMs ?? 500,
    log: deps.log ?? ((line: string) => process.stderr.write(`carbon raise relay: ${line}\n`)),
  });
}
