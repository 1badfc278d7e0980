import { and, asc, desc, eq, gt, inArray, isNotNull, isNull, ne, sql } from 'drizzle-orm';
import type { Db } from '../client';
import {
  apiKeys,
  experimentAssignments,
  experimentResults,
  experimentServiceKeys,
  outbox,
  usageRecords,
  users,
} from '../schema/index';

/** Outbox kind of a stored A/B result: the worker's experiments relay signals the tagged requests' settlements. */
export const experimentResultOutboxKind = 'experiment_result';
/** Assignment rows inserted per statement (3 parameters each, far below PostgreSQL's 65,535). */
const assignmentInsertBatch = 5_000;
/** Most results one listing returns, newest first. */
export const experimentResultsListMax = 100;

/** A service key with the experiments scope as the webhook and the submission need it. */
export async function findExperimentsServiceKey(db: Db, params: { keyId: string }) {
  const [row] = await db
    .select({
      keyId: apiKeys.id,
      orgId: apiKeys.orgId,
      scopes: apiKeys.scopes,
      revokedAt: apiKeys.revokedAt,
      expiresAt: apiKeys.expiresAt,
      createdByUserId: experimentServiceKeys.createdByUserId,
    })
    .from(apiKeys)
    .innerJoin(experimentServiceKeys, eq(experimentServiceKeys.keyId, apiKeys.id))
    .where(eq(apiKeys.id, params.keyId))
    .limit(1);
  return row;
}

/** Records who created a service key; call it in the transaction that inserts the key. */
export async function insertExperimentsServiceKey(
  db: Db,
  params: { keyId: string; orgId: string; createdByUserId: string },
): Promise<void> {
  await db.insert(experimentServiceKeys).values(params);
}

const resultColumns = {
  id: experimentResults.id,
  orgId: experimentResults.orgId,
  resultId: experimentResults.resultId,
  experimentKey: experimentResults.experimentKey,
  metricId: experimentResults.metricId,
  higherIsBetter: experimentResults.higherIsBetter,
  startedAt: experimentResults.startedAt,
  endedAt: experimentResults.endedAt,
  variations: experimentResults.variations,
  contentSha256: experimentResults.contentSha256,
  submittedByKeyId: experimentResults.submittedByKeyId,
  submitterUserId: experimentResults.submitterUserId,
  taggedRequests: experimentResults.taggedRequests,
  assignedUsers: experimentResults.assignedUsers,
  unmatchedAssignments: experimentResults.unmatchedAssignments,
  cursorRequestId: experimentResults.cursorRequestId,
  signalledSettlements: experimentResults.signalledSettlements,
  skippedSettlements: experimentResults.skippedSettlements,
  relayedAt: experimentResults.relayedAt,
  createdAt: experimentResults.createdAt,
};

export type ExperimentResultRow = {
  [K in keyof typeof resultColumns]: (typeof resultColumns)[K]['_']['notNull'] extends true
    ? (typeof resultColumns)[K]['_']['data']
    : (typeof resultColumns)[K]['_']['data'] | null;
};

/** The org's result with the platform's `resultId`, or undefined. */
export async function findExperimentResult(
  db: Db,
  params: { orgId: string; resultId: string },
): Promise<ExperimentResultRow | undefined> {
  const [row] = await db
    .select(resultColumns)
    .from(experimentResults)
    .where(and(eq(experimentResults.orgId, params.orgId), eq(experimentResults.resultId, params.resultId)))
    .limit(1);
  return row as ExperimentResultRow | undefined;
}

/** A result row by its own id (the relay's outbox names it), or undefined. */
export async function findExperimentResultById(
  db: Db,
  params: { id: string },
): Promise<ExperimentResultRow | undefined> {
  const [row] = await db.select(resultColumns).from(experimentResults).where(eq(experimentResults.id, params.id));
  return row as ExperimentResultRow | undefined;
}

/** The org's results, newest first, optionally of one experiment. */
export async function listExperimentResults(
  db: Db,
  params: { orgId: string; experimentKey?: string; limit: number },
): Promise<ExperimentResultRow[]> {
  const limit = Math.min(Math.max(params.limit, 1), experimentResultsListMax);
  const rows = await db
    .select(resultColumns)
    .from(experimentResults)
    .where(
      params.experimentKey === undefined
        ? eq(experimentResults.orgId, params.orgId)
        : and(eq(experimentResults.orgId, params.orgId), eq(experimentResults.experimentKey, params.experimentKey)),
    )
    .orderBy(desc(experimentResults.createdAt), desc(experimentResults.id))
    .limit(limit);
  return rows as ExperimentResultRow[];
}

/** Users of the org among `userIds` and `emails` (emails case-insensitively); others are simply absent. */
export async function findOrgUsersByIdOrEmail(
  db: Db,
  params: { orgId: string; userIds: readonly string[]; emails: readonly string[] },
): Promise<{ id: string; email: string }[]> {
  const found: { id: string; email: string }[] = [];
  const columns = { id: users.id, email: users.email };
  for (let start = 0; start < params.userIds.length; start += assignmentInsertBatch) {
    const ids = params.userIds.slice(start, start + assignmentInsertBatch);
    found.push(
      ...(await db
        .select(columns)
        .from(users)
        .where(and(eq(users.orgId, params.orgId), inArray(users.id, ids)))),
    );
  }
  for (let start = 0; start < params.emails.length; start += assignmentInsertBatch) {
    const emails = params.emails.slice(start, start + assignmentInsertBatch).map((email) => email.toLowerCase());
    found.push(
      ...(await db
        .select(columns)
        .from(users)
        .where(and(eq(users.orgId, params.orgId), inArray(sql`lower(${users.email})`, emails)))),
    );
  }
  return found;
}

/** The org's usage rows tagged with the experiment, through the partial index on the tag. */
export async function countTaggedRequests(db: Db, params: { orgId: string; experimentKey: string }): Promise<number> {
  const [row] = await db
    .select({ count: sql<number>`count(*)::int` })
    .from(usageRecords)
    .where(
      and(
        eq(usageRecords.orgId, params.orgId),
        eq(usageRecords.experimentKey, params.experimentKey),
        isNotNull(usageRecords.experimentKey),
      ),
    );
  return row?.count ?? 0;
}

export type NewExperimentResult = Omit<
  typeof experimentResults.$inferInsert,
  'id' | 'cursorRequestId' | 'signalledSettlements' | 'skippedSettlements' | 'relayedAt' | 'createdAt'
>;

/**
 * Inserts a result with its assignments and its outbox row, in the caller's transaction. Returns
 * undefined when the org already holds a result with that `resultId` (a concurrent delivery won).
 */
export async function insertExperimentResult(
  tx: Db,
  params: { result: NewExperimentResult; assignments: readonly { userId: string; variantKey: string }[] },
): Promise<ExperimentResultRow | undefined> {
  const [row] = await tx.insert(experimentResults).values(params.result).onConflictDoNothing().returning(resultColumns);
  if (row === undefined) return undefined;
  for (let start = 0; start < params.assignments.length; start += assignmentInsertBatch) {
    const batch = params.assignments.slice(start, start + assignmentInsertBatch);
    await tx
      .insert(experimentAssignments)
      .values(batch.map((assignment) => ({ resultRowId: row.id, ...assignment })))
      .onConflictDoNothing();
  }
  await tx.insert(outbox).values({ requestId: row.id, kind: experimentResultOutboxKind });
  return row as ExperimentResultRow;
}

/** A result outbox row waiting for the relay. */
export interface PendingExperimentResultOutboxRow {
  outboxId: bigint;
  resultRowId: string;
}

/** Undelivered result outbox rows, oldest first. */
export async function pendingExperimentResultOutboxRows(
  db: Db,
  params: { limit: number },
): Promise<PendingExperimentResultOutboxRow[]> {
  return db
    .select({ outboxId: outbox.id, resultRowId: outbox.requestId })
    .from(outbox)
    .where(and(isNull(outbox.deliveredAt), eq(outbox.kind, experimentResultOutboxKind)))
    .orderBy(asc(outbox.id))
    .limit(params.limit);
}

/** One tagged usage row as the relay needs it. */
export interface TaggedUsageRow {
  requestId: string;
  userId: string | null;
  variantKey: string | null;
  system: boolean;
  createdAt: Date;
}

/** The next page of the org's usage rows tagged with the experiment, by request id after `afterRequestId`. */
export async function pageTaggedUsage(
  db: Db,
  params: { orgId: string; experimentKey: string; afterRequestId: string | null; limit: number },
): Promise<TaggedUsageRow[]> {
  const tagged = and(
    eq(usageRecords.orgId, params.orgId),
    eq(usageRecords.experimentKey, params.experimentKey),
    isNotNull(usageRecords.experimentKey),
  );
  return db
    .select({
      requestId: usageRecords.requestId,
      userId: usageRecords.userId,
      variantKey: usageRecords.variantKey,
      system: usageRecords.system,
      createdAt: usageRecords.createdAt,
    })
    .from(usageRecords)
    .where(params.afterRequestId === null ? tagged : and(tagged, gt(usageRecords.requestId, params.afterRequestId)))
    .orderBy(asc(usageRecords.requestId))
    .limit(params.limit);
}

/** Which of `userIds` the result assigned to which variants. */
export async function assignmentsOf(
  db: Db,
  params: { resultRowId: string; userIds: readonly string[] },
): Promise<{ userId: string; variantKey: string }[]> {
  if (params.userIds.length === 0) return [];
  return db
    .select({ userId: experimentAssignments.userId, variantKey: experimentAssignments.variantKey })
    .from(experimentAssignments)
    .where(
      and(
        eq(experimentAssignments.resultRowId, params.resultRowId),
        inArray(experimentAssignments.userId, [...params.userIds]),
      ),
    );
}

/** Whether any user other than `userId` made a request tagged with the experiment (system usage aside). */
export async function experimentHasRequestsOfOthers(
  db: Db,
  params: { orgId: string; experimentKey: string; userId: string },
): Promise<boolean> {
  const [row] = await db
    .select({ requestId: usageRecords.requestId })
    .from(usageRecords)
    .where(
      and(
        eq(usageRecords.orgId, params.orgId),
        eq(usageRecords.experimentKey, params.experimentKey),
        isNotNull(usageRecords.userId),
        ne(usageRecords.userId, params.userId),
      ),
    )
    .limit(1);
  return row !== undefined;
}

/** Records the relay's progress: the cursor moves past a page whose settlements were all signalled. */
export async function advanceExperimentRelay(
  db: Db,
  params: { id: string; cursorRequestId: string; signalled: number; skipped: number },
): Promise<void> {
  await db
    .update(experimentResults)
    .set({
      cursorRequestId: params.cursorRequestId,
      signalledSettlements: sql`${experimentResults.signalledSettlements} + ${params.signalled}`,
      skippedSettlements: sql`${experimentResults.skippedSettlements} + ${params.skipped}`,
    })
    .where(eq(experimentResults.id, params.id));
}

/** The result's every tagged request was handled: its outbox row is delivered, in one transaction. */
export async function finishExperimentRelay(db: Db, params: { id: string; outboxId: bigint }): Promise<void> {
  await db.transaction(async (tx) => {
    await tx.update(experimentResults).set({ relayedAt: new Date() }).where(eq(experimentResults.id, params.id));
    await tx.update(outbox).set({ deliveredAt: new Date() }).where(eq(outbox.id, params.outboxId));
  });
}
