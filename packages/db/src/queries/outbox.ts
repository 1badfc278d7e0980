import { and, asc, eq, inArray, isNull, sql } from 'drizzle-orm';
import type { Db } from '../client';
import { outbox } from '../schema/index';

/** An outbox row waiting to be handed on: its id and the request it is about. */
export interface PendingOutboxRow {
  id: bigint;
  requestId: string;
}

/** Undelivered outbox rows of `kind`, oldest first, at most `limit`. */
export async function pendingOutboxRows(db: Db, params: { kind: string; limit: number }): Promise<PendingOutboxRow[]> {
  return db
    .select({ id: outbox.id, requestId: outbox.requestId })
    .from(outbox)
    .where(and(isNull(outbox.deliveredAt), eq(outbox.kind, params.kind)))
    .orderBy(asc(outbox.id))
    .limit(params.limit);
}

/** Counts one failed delivery attempt of the outbox row. */
export async function countOutboxAttempt(db: Db, params: { id: bigint }): Promise<void> {
  await db
    .update(outbox)
    .set({ attempts: sql`${outbox.attempts} + 1` })
    .where(eq(outbox.id, params.id));
}

/** Marks the outbox rows delivered now. */
export async function markOutboxDelivered(db: Db, params: { ids: bigint[] }): Promise<void> {
  await db.update(outbox).set({ deliveredAt: new Date() }).where(inArray(outbox.id, params.ids));
}
