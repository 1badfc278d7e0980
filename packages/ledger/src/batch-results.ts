import { invariant } from '@tokenwise/core';
import { jsonRowsInserts } from '@tokenwise/db';
import type { SQL } from 'drizzle-orm';
import type { PgTable } from 'drizzle-orm/pg-core';
import type { Decision, Draft } from './evaluate';
import type { Submission } from './submission';
import type { LedgerOp, OpResult, Transfer } from './types';

/** The rows attached to accepted, first-time ops (usage rows, outbox rows), as one insert per table. */
export function attachmentInserts(ops: LedgerOp[], decisions: Decision[]): SQL[] {
  const byTable = new Map<PgTable, Record<string, unknown>[]>();
  ops.forEach((op, index) => {
    const decision = decisions[index];
    if (
      op.attach === undefined ||
      decision === undefined ||
      !decision.ok ||
      !('draft' in decision) ||
      decision.duplicate === true
    )
      return;
    for (const { table, row } of op.attach) byTable.set(table, [...(byTable.get(table) ?? []), row]);
  });
  return [...byTable].flatMap(([table, rows]) => jsonRowsInserts(table, rows));
}

/** Each submission's results, in the order of its ops, from the batch's decisions and written transfers. */
export function resultsOf(batch: Submission[], decisions: Decision[][], transfers: Map<Draft, Transfer>): OpResult[][] {
  const out: OpResult[][] = [];
  let groupIndex = 0;
  for (const submission of batch) {
    const results: OpResult[] = [];
    for (let i = 0; i < submission.groups.length; i++) {
      for (const decision of decisions[groupIndex++] ?? []) results.push(toResult(decision, transfers));
    }
    invariant(results.length === submission.opCount, 'one result per submitted op');
    out.push(results);
  }
  return out;
}

function toResult(decision: Decision, transfers: Map<Draft, Transfer>): OpResult {
  if (!decision.ok) return decision;
  if ('existing' in decision) return { ok: true, transfer: decision.existing, duplicate: true };
  const transfer = transfers.get(decision.draft);
  invariant(transfer !== undefined, 'every accepted draft was written');
  if (decision.duplicate === true) return { ok: true, transfer, duplicate: true };
  return {
    ok: true,
    transfer,
    duplicate: false,
    debitAvailable: decision.draft.debitAvailableAfter,
    debitPosted: decision.draft.debitPostedAfter,
  };
}
