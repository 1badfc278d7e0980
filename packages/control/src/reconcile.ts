import {
  carbonScopes,
  holdTransferIdPrefix,
  invariant,
  transferIdPrefix,
  ValidationError,
  voidTransferId,
} from '@tokenwise/core';
import type { Db } from '@tokenwise/db';
import { gatewayRequests, ledgerTransfers, usageRecords } from '@tokenwise/db/schema';
import type { Ledger, LedgerOp } from '@tokenwise/ledger';
import { and, asc, eq, lt, or, sql } from 'drizzle-orm';

/** Admissions handled per call: one ledger submit of voids stays well under the ledger's batch limit. */
export const reconcileBatchMax = 200;

/** An admission whose request never completed: its holds still lock tokens in the wallet. */
export interface AbandonedAdmission {
  requestId: string;
  model: string;
  createdAt: Date;
  /** `hold-<requestId>-<currency>` of every hold not yet posted, voided or expired. */
  holdIds: string[];
}

export interface ReconcileParams {
  /**
   * Only admissions created before this are touched. It must be older than any request the gateway
   * may still be serving: now - (requestTimeoutMs + a margin for clock skew and the charge commit).
   */
  olderThan: Date;
  /** 1..reconcileBatchMax admissions, oldest first. */
  limit: number;
}

function assertParams(params: ReconcileParams): void {
  if (!Number.isInteger(params.limit) || params.limit < 1 || params.limit > reconcileBatchMax)
    throw new ValidationError(`limit must be a whole number from 1 to ${reconcileBatchMax}.`);
  if (Number.isNaN(params.olderThan.getTime())) throw new ValidationError('olderThan must be a valid date.');
}

/**
 * A hold is the pending transfer `hold-<requestId>-<currency>`, in the request's model currency or
 * its fee currency (the admission row names both), so it is found by its unique id, not by a scan.
 */
const isHoldOfRequest = or(
  eq(
    ledgerTransfers.id,
    sql`${transferIdPrefix.hold} || ${gatewayRequests.requestId} || '-' || ${gatewayRequests.currency}`,
  ),
  eq(
    ledgerTransfers.id,
    sql`${transferIdPrefix.hold} || ${gatewayRequests.requestId} || '-' || ${gatewayRequests.feeCurrency}`,
  ),
  // The carbon holds on the user's, team's and org's budgets (`hold-<requestId>-carbon-<scope>`).
  ...carbonScopes.map((scope) =>
    eq(
      ledgerTransfers.id,
      sql`${transferIdPrefix.hold} || ${gatewayRequests.requestId} || '-' || ${`carbon-${scope}`}`,
    ),
  ),
);
const unresolved = sql`not exists (select 1 from ${ledgerTransfers} resolution where resolution.pending_id = ${ledgerTransfers.id})`;
const notCompleted = sql`not exists (select 1 from ${usageRecords} usage where usage.request_id = ${gatewayRequests.requestId})`;

/**
 * Admissions older than `olderThan` with no usage row and at least one hold still pending: the
 * gateway died (or its charge failed) between admission and completion. Oldest first.
 */
export async function findAbandonedAdmissions(db: Db, params: ReconcileParams): Promise<AbandonedAdmission[]> {
  assertParams(params);
  const rows = await db
    .select({
      requestId: gatewayRequests.requestId,
      model: gatewayRequests.model,
      createdAt: gatewayRequests.createdAt,
      holdIds: sql<string[]>`array_agg(${ledgerTransfers.id} order by ${ledgerTransfers.id})`,
    })
    .from(gatewayRequests)
    .innerJoin(ledgerTransfers, and(isHoldOfRequest, eq(ledgerTransfers.type, 'pending')))
    .where(and(lt(gatewayRequests.createdAt, params.olderThan), unresolved, notCompleted))
    .groupBy(gatewayRequests.requestId, gatewayRequests.model, gatewayRequests.createdAt)
    .orderBy(asc(gatewayRequests.createdAt), asc(gatewayRequests.requestId))
    .limit(params.limit);
  return rows.map((row) => {
    invariant(
      Array.isArray(row.holdIds) && row.holdIds.length > 0,
      `abandoned admission ${row.requestId} must have a pending hold`,
    );
    return { ...row, holdIds: [...row.holdIds] };
  });
}

const currencyOfHold = (requestId: string, holdId: string): string => {
  const prefix = holdTransferIdPrefix(requestId);
  invariant(
    holdId.startsWith(prefix) && holdId.length > prefix.length,
    `hold ${holdId} does not belong to request ${requestId}`,
  );
  return holdId.slice(prefix.length);
};

/**
 * Voids every pending hold of the abandoned admissions (`void-<requestId>-<currency>`, the id the
 * gateway itself would have used), so the wallets get every held token back. Idempotent: a rerun,
 * or a concurrent gateway release, moves nothing twice. A hold already past its expiry is released
 * by the ledger as that expiry instead. Returns how many requests this call closed.
 *
 * Never pass a recent `olderThan`: a request still in flight would lose its hold and its charge
 * would then fail (the user would not pay for it). Callers use now - (request timeout + margin).
 */
export async function closeAbandonedAdmissions(
  deps: { db: Db; ledger: Ledger },
  params: ReconcileParams,
): Promise<number> {
  const abandoned = await findAbandonedAdmissions(deps.db, params);
  const ops: (LedgerOp & { type: 'void' })[] = [];
  const requestOfOp: string[] = [];
  for (const admission of abandoned) {
    for (const holdId of admission.holdIds) {
      ops.push({
        type: 'void',
        id: voidTransferId(admission.requestId, currencyOfHold(admission.requestId, holdId)),
        pendingId: holdId,
        userData: { reason: 'reconciliation: request never completed' },
      });
      requestOfOp.push(admission.requestId);
    }
  }
  if (ops.length === 0) return 0;
  const results = await deps.ledger.submit(ops);
  const closed = new Set<string>();
  results.forEach((result, index) => {
    const requestId = requestOfOp[index] as string;
    if (result.ok) {
      if (!result.duplicate) closed.add(requestId);
      return;
    }
    // Expired: the ledger released it in this batch. Voided or posted meanwhile: someone else closed it.
    if (result.code === 'pending_expired') closed.add(requestId);
    else if (result.code !== 'pending_already_voided' && result.code !== 'pending_already_posted') {
      throw new Error(
        `Voiding hold ${ops[index]?.pendingId} of abandoned request ${requestId} failed: ${result.code}: ${result.message}`,
      );
    }
  });
  return closed.size;
}
