import { and, asc, eq, inArray, isNull, lte, notExists, or, sql } from 'drizzle-orm';
import type { Db } from '../client';
import { notifications, slackDeliveries, users, type SlackDeliveryState } from '../schema/index';
import type { PgUpdateSetSource } from 'drizzle-orm/pg-core';

/** A notification the bot holds (leased) to send: what it says and to whom. */
export interface ClaimedSlackDelivery {
  notificationId: bigint;
  userId: string | null;
  /** The recipient's email (how the bot finds them in Slack); null without a user. */
  email: string | null;
  kind: string;
  payload: unknown;
  attempts: number;
  createdAt: Date;
}

/** Longest error text kept on a delivery row. */
export const slackDeliveryErrorCharsMax = 500;

/** The columns of a claimed delivery (its notification's payload and the user's email joined in). */
export const claimedSlackDeliveryColumns = {
  notificationId: slackDeliveries.notificationId,
  userId: slackDeliveries.userId,
  email: users.email,
  kind: slackDeliveries.kind,
  payload: notifications.payload,
  attempts: slackDeliveries.attempts,
  createdAt: notifications.createdAt,
};

/**
 * Gives each of the org's undelivered notifications of `kinds` a pending delivery row, oldest
 * first, at most `limit`, due at `now`; two processes doing it at once insert each row once. Answers how many
 * were new. Kinds the bot does not know stay untouched, for a bot that knows them.
 */
export async function enqueueSlackDeliveries(
  db: Db,
  params: { orgId: string; kinds: readonly string[]; limit: number; now: Date },
): Promise<number> {
  const fresh = await db
    .select({
      notificationId: notifications.id,
      orgId: notifications.orgId,
      userId: notifications.userId,
      kind: notifications.kind,
    })
    .from(notifications)
    .where(
      and(
        eq(notifications.orgId, params.orgId),
        isNull(notifications.deliveredAt),
        inArray(notifications.kind, [...params.kinds]),
        notExists(
          db
            .select({ one: sql`1` })
            .from(slackDeliveries)
            .where(eq(slackDeliveries.notificationId, notifications.id)),
        ),
      ),
    )
    .orderBy(asc(notifications.id))
    .limit(params.limit);
  if (fresh.length === 0) return 0;
  const inserted = await db
    .insert(slackDeliveries)
    .values(fresh.map((row) => ({ ...row, nextAttemptAt: params.now })))
    .onConflictDoNothing()
    .returning({ id: slackDeliveries.notificationId });
  return inserted.length;
}

/**
 * Leases the org's due pending deliveries of `kinds` to `owner` until `now + leaseMs`, oldest
 * first, at most `limit`. Rows another process holds (a live lease, or locked right now) are
 * skipped, so two processes never claim one row while its lease lasts.
 */
export async function claimDueSlackDeliveries(
  db: Db,
  params: { orgId: string; kinds: readonly string[]; owner: string; now: Date; leaseMs: number; limit: number },
): Promise<ClaimedSlackDelivery[]> {
  const due = db
    .select({ id: slackDeliveries.notificationId })
    .from(slackDeliveries)
    .where(
      and(
        eq(slackDeliveries.orgId, params.orgId),
        eq(slackDeliveries.state, 'pending'),
        inArray(slackDeliveries.kind, [...params.kinds]),
        lte(slackDeliveries.nextAttemptAt, params.now),
        or(isNull(slackDeliveries.leasedUntil), lte(slackDeliveries.leasedUntil, params.now)),
      ),
    )
    .orderBy(asc(slackDeliveries.nextAttemptAt), asc(slackDeliveries.notificationId))
    .limit(params.limit)
    .for('update', { skipLocked: true });
  const claimed = await db
    .update(slackDeliveries)
    .set({ leasedUntil: new Date(params.now.getTime() + params.leaseMs), leaseOwner: params.owner })
    .where(inArray(slackDeliveries.notificationId, due))
    .returning({ id: slackDeliveries.notificationId });
  if (claimed.length === 0) return [];
  return db
    .select(claimedSlackDeliveryColumns)
    .from(slackDeliveries)
    .innerJoin(notifications, eq(notifications.id, slackDeliveries.notificationId))
    .leftJoin(users, eq(users.id, slackDeliveries.userId))
    .where(
      inArray(
        slackDeliveries.notificationId,
        claimed.map((row) => row.id),
      ),
    )
    .orderBy(asc(slackDeliveries.notificationId));
}

/**
 * Records the deliveries as sent in `channel` at `ts` (right after Slack accepted the message)
 * and their notifications delivered, in one transaction.
 */
export async function markSlackDeliveriesSent(
  db: Db,
  params: { ids: readonly bigint[]; channel: string; ts: string; sentAt: Date },
): Promise<void> {
  if (params.ids.length === 0) return;
  await closeSlackDeliveries(db, params.ids, params.sentAt, {
    state: 'sent',
    channel: params.channel,
    ts: params.ts,
    sentAt: params.sentAt,
    attempts: sql`${slackDeliveries.attempts} + 1`,
  });
}

/**
 * Ends pending deliveries with `changes` (their lease released) and marks their notifications
 * delivered at `at`, in one transaction.
 */
async function closeSlackDeliveries(
  db: Db,
  ids: readonly bigint[],
  at: Date,
  changes: PgUpdateSetSource<typeof slackDeliveries>,
): Promise<void> {
  await db.transaction(async (tx) => {
    await tx
      .update(slackDeliveries)
      .set({ ...changes, leasedUntil: null, leaseOwner: null })
      .where(and(inArray(slackDeliveries.notificationId, [...ids]), eq(slackDeliveries.state, 'pending')));
    await tx
      .update(notifications)
      .set({ deliveredAt: at })
      .where(and(inArray(notifications.id, [...ids]), isNull(notifications.deliveredAt)));
  });
}

/**
 * Ends the deliveries without a message (`muted`, `no_slack_user`, `no_recipient`, or `failed`
 * for an error Slack will answer again), their notifications handled.
 */
export async function markSlackDeliveriesHandled(
  db: Db,
  params: { ids: readonly bigint[]; state: Exclude<SlackDeliveryState, 'pending' | 'sent'>; error?: string; at: Date },
): Promise<void> {
  if (params.ids.length === 0) return;
  await closeSlackDeliveries(db, params.ids, params.at, {
    state: params.state,
    lastError: params.error?.slice(0, slackDeliveryErrorCharsMax) ?? null,
  });
}

/** Counts a failed attempt of the deliveries and frees them for another at `nextAttemptAt`. */
export async function retrySlackDeliveries(
  db: Db,
  params: { ids: readonly bigint[]; nextAttemptAt: Date; error: string },
): Promise<void> {
  if (params.ids.length === 0) return;
  await db
    .update(slackDeliveries)
    .set({
      attempts: sql`${slackDeliveries.attempts} + 1`,
      nextAttemptAt: params.nextAttemptAt,
      lastError: params.error.slice(0, slackDeliveryErrorCharsMax),
      leasedUntil: null,
      leaseOwner: null,
    })
    .where(and(inArray(slackDeliveries.notificationId, [...params.ids]), eq(slackDeliveries.state, 'pending')));
}

/** Most delivery rows one listing returns. */
export const slackDeliveriesListMax = 1_000;

/** The org's delivery rows (of one user when given), oldest first: diagnostics and tests. */
export async function listSlackDeliveries(db: Db, params: { orgId: string; userId?: string; limit?: number }) {
  return db
    .select({
      notificationId: slackDeliveries.notificationId,
      userId: slackDeliveries.userId,
      kind: slackDeliveries.kind,
      state: slackDeliveries.state,
      attempts: slackDeliveries.attempts,
      nextAttemptAt: slackDeliveries.nextAttemptAt,
      lastError: slackDeliveries.lastError,
      channel: slackDeliveries.channel,
      ts: slackDeliveries.ts,
      sentAt: slackDeliveries.sentAt,
    })
    .from(slackDeliveries)
    .where(
      and(
        eq(slackDeliveries.orgId, params.orgId),
        params.userId === undefined ? undefined : eq(slackDeliveries.userId, params.userId),
      ),
    )
    .orderBy(asc(slackDeliveries.notificationId))
    .limit(Math.min(Math.max(params.limit ?? slackDeliveriesListMax, 1), slackDeliveriesListMax));
}

/** Frees leased deliveries untried (a rate limit stopped the batch): due again at `nextAttemptAt`, no attempt counted. */
export async function releaseSlackDeliveries(
  db: Db,
  params: { ids: readonly bigint[]; nextAttemptAt: Date },
): Promise<void> {
  if (params.ids.length === 0) return;
  await db
    .update(slackDeliveries)
    .set({ nextAttemptAt: params.nextAttemptAt, leasedUntil: null, leaseOwner: null })
    .where(and(inArray(slackDeliveries.notificationId, [...params.ids]), eq(slackDeliveries.state, 'pending')));
}
