import { and, asc, eq, gt, isNull, lte, or, sql } from 'drizzle-orm';
import type { Db } from '../client';
import { notifications, slackDeliveries, slackUserStates, users } from '../schema/index';
import { claimedSlackDeliveryColumns, type ClaimedSlackDelivery } from './slack-deliveries';

/** The kind of notification sent as a digest (settlement results). */
export const slackDigestKind = 'settlement';

/** A user's digest held by one process: the settlement rows it carries, or none when muted. */
export interface ClaimedSlackDigest {
  userId: string;
  email: string;
  muted: boolean;
  rows: ClaimedSlackDelivery[];
}

/**
 * Users of the org with settlement rows due and no digest within `intervalMs` before `now` (nor
 * one being sent), at most `limit`.
 */
export async function dueSlackDigestUsers(
  db: Db,
  params: { orgId: string; now: Date; intervalMs: number; limit: number },
): Promise<string[]> {
  const since = new Date(params.now.getTime() - params.intervalMs);
  const rows = await db
    .selectDistinct({ userId: slackDeliveries.userId })
    .from(slackDeliveries)
    .leftJoin(slackUserStates, eq(slackUserStates.userId, slackDeliveries.userId))
    .where(
      and(
        eq(slackDeliveries.orgId, params.orgId),
        eq(slackDeliveries.state, 'pending'),
        eq(slackDeliveries.kind, slackDigestKind),
        lte(slackDeliveries.nextAttemptAt, params.now),
        sql`${slackDeliveries.userId} is not null`,
        or(isNull(slackUserStates.lastDigestAt), lte(slackUserStates.lastDigestAt, since)),
        or(isNull(slackUserStates.digestLeasedUntil), lte(slackUserStates.digestLeasedUntil, params.now)),
      ),
    )
    .limit(params.limit);
  return rows.flatMap((row) => (row.userId === null ? [] : [row.userId]));
}

/**
 * Leases the user's digest to `owner` and answers the settlement rows it carries (at most
 * `rowsMax`, oldest first), or undefined when another process holds it, a digest went within
 * the interval, or nothing is due. The user's state row is the lock: two processes never both
 * hold one user's digest while its lease lasts.
 */
export async function claimSlackDigest(
  db: Db,
  params: {
    orgId: string;
    userId: string;
    owner: string;
    now: Date;
    intervalMs: number;
    leaseMs: number;
    rowsMax: number;
  },
): Promise<ClaimedSlackDigest | undefined> {
  return db.transaction(async (tx) => {
    await tx.insert(slackUserStates).values({ userId: params.userId, orgId: params.orgId }).onConflictDoNothing();
    const [state] = await tx
      .select({
        muted: slackUserStates.settlementsMuted,
        lastDigestAt: slackUserStates.lastDigestAt,
        email: users.email,
      })
      .from(slackUserStates)
      .innerJoin(users, eq(users.id, slackUserStates.userId))
      .where(
        and(
          eq(slackUserStates.userId, params.userId),
          or(isNull(slackUserStates.digestLeasedUntil), lte(slackUserStates.digestLeasedUntil, params.now)),
        ),
      )
      .for('update', { of: slackUserStates, skipLocked: true });
    if (state === undefined) return undefined;
    if (state.lastDigestAt !== null && state.lastDigestAt.getTime() > params.now.getTime() - params.intervalMs)
      return undefined;
    const rows = await tx
      .select(claimedSlackDeliveryColumns)
      .from(slackDeliveries)
      .innerJoin(notifications, eq(notifications.id, slackDeliveries.notificationId))
      .innerJoin(users, eq(users.id, slackDeliveries.userId))
      .where(
        and(
          eq(slackDeliveries.userId, params.userId),
          eq(slackDeliveries.kind, slackDigestKind),
          eq(slackDeliveries.state, 'pending'),
        ),
      )
      .orderBy(asc(slackDeliveries.notificationId))
      .limit(params.rowsMax);
    if (rows.length === 0) return undefined;
    await tx
      .update(slackUserStates)
      .set({ digestLeasedUntil: new Date(params.now.getTime() + params.leaseMs), digestLeaseOwner: params.owner })
      .where(eq(slackUserStates.userId, params.userId));
    return { userId: params.userId, email: state.email, muted: state.muted, rows };
  });
}

/** Ends the user's digest lease; with `sentAt`, records that a digest went then (the interval counts from it). */
export async function releaseSlackDigest(
  db: Db,
  params: { userId: string; owner: string; sentAt: Date | null },
): Promise<void> {
  await db
    .update(slackUserStates)
    .set({
      digestLeasedUntil: null,
      digestLeaseOwner: null,
      updatedAt: new Date(),
      ...(params.sentAt === null ? {} : { lastDigestAt: params.sentAt }),
    })
    .where(and(eq(slackUserStates.userId, params.userId), eq(slackUserStates.digestLeaseOwner, params.owner)));
}

/** When the user's last digest went; undefined when none did. */
export async function lastSlackDigestAt(db: Db, params: { userId: string }): Promise<Date | undefined> {
  const [row] = await db
    .select({ at: slackUserStates.lastDigestAt })
    .from(slackUserStates)
    .where(and(eq(slackUserStates.userId, params.userId), gt(slackUserStates.lastDigestAt, new Date(0))))
    .limit(1);
  return row?.at ?? undefined;
}
