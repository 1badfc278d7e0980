import { eq } from 'drizzle-orm';
import type { Db } from '../client';
import { notifications, settlements } from '../schema/index';

/** A recorded settlement, every column. */
export type SettlementRecord = typeof settlements.$inferSelect;
/** A settlement row to record. */
export type NewSettlement = typeof settlements.$inferInsert;
/** A notification row to record (the Slack bot delivers it). */
export type NewNotification = typeof notifications.$inferInsert;

/** The request's recorded settlement, every column, or undefined when it is not settled. */
export async function findSettlementRecord(
  db: Db,
  params: { requestId: string },
): Promise<SettlementRecord | undefined> {
  const [recorded] = await db.select().from(settlements).where(eq(settlements.requestId, params.requestId)).limit(1);
  return recorded;
}

/** Records the settlement unless the request already has one (then nothing changes). */
export async function insertSettlementIfAbsent(db: Db, params: { row: NewSettlement }): Promise<void> {
  await db.insert(settlements).values(params.row).onConflictDoNothing();
}

/** Records a notification for the Slack bot to deliver. */
export async function insertNotification(db: Db, params: { row: NewNotification }): Promise<void> {
  await db.insert(notifications).values(params.row);
}
