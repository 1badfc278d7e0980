import type { CarbonScope } from '@tokenwise/core';
import { and, asc, desc, eq, inArray, isNull, or, sql, type SQL } from 'drizzle-orm';
import type { Db } from '../client';
import { carbonRaises, notifications, outbox, users } from '../schema/index';
import { writeAudit } from './audit';

/** Outbox kinds the worker's relay turns into the raise's workflow start and its decision signal. */
export const carbonRaiseOutboxKinds = { start: 'carbon_raise_start', decided: 'carbon_raise_decided' } as const;
export type CarbonRaiseOutboxKind = (typeof carbonRaiseOutboxKinds)[keyof typeof carbonRaiseOutboxKinds];

export type CarbonRaiseState = 'pending' | 'approved' | 'denied';

/** A raise request and its decision, every column. */
export interface CarbonRaise {
  id: string;
  orgId: string;
  scope: CarbonScope;
  scopeId: string;
  requestedBy: string;
  requestedMicrograms: bigint;
  reason: string;
  until: string | null;
  state: CarbonRaiseState;
  deadlineAt: Date;
  decidedBy: string | null;
  decidedAt: Date | null;
  grantedMicrograms: bigint | null;
  grantedPeriod: string | null;
  note: string | null;
  endedAt: Date | null;
  createdAt: Date;
}

const raiseColumns = {
  id: carbonRaises.id,
  orgId: carbonRaises.orgId,
  scope: carbonRaises.scope,
  scopeId: carbonRaises.scopeId,
  requestedBy: carbonRaises.requestedBy,
  requestedMicrograms: carbonRaises.requestedMicrograms,
  reason: carbonRaises.reason,
  until: carbonRaises.until,
  state: carbonRaises.state,
  deadlineAt: carbonRaises.deadlineAt,
  decidedBy: carbonRaises.decidedBy,
  decidedAt: carbonRaises.decidedAt,
  grantedMicrograms: carbonRaises.grantedMicrograms,
  grantedPeriod: carbonRaises.grantedPeriod,
  note: carbonRaises.note,
  endedAt: carbonRaises.endedAt,
  createdAt: carbonRaises.createdAt,
};

/** Most raises one listing returns (newest first). */
export const carbonRaisesListMax = 200;

/**
 * Records a raise request, its outbox row (the relay starts its workflow from it) and its audit row
 * in one transaction: a request is never stored without its workflow being on the way.
 */
export async function insertCarbonRaise(
  db: Db,
  params: {
    orgId: string;
    scope: CarbonScope;
    scopeId: string;
    requestedBy: string;
    requestedMicrograms: bigint;
    reason: string;
    until: string | null;
    deadlineAt: Date;
    actor: string;
  },
): Promise<CarbonRaise> {
  return db.transaction(async (tx) => {
    const [raise] = await tx
      .insert(carbonRaises)
      .values({
        orgId: params.orgId,
        scope: params.scope,
        scopeId: params.scopeId,
        requestedBy: params.requestedBy,
        requestedMicrograms: params.requestedMicrograms,
        reason: params.reason,
        until: params.until,
        deadlineAt: params.deadlineAt,
      })
      .returning(raiseColumns);
    if (raise === undefined) throw new Error('insert into carbon_raises returned no row');
    await tx.insert(outbox).values({ requestId: raise.id, kind: carbonRaiseOutboxKinds.start });
    await writeAudit(tx, {
      orgId: raise.orgId,
      actor: params.actor,
      action: 'carbon.raise.request',
      entityType: 'carbon_raise',
      entityId: raise.id,
      before: null,
      after: raise,
    });
    return raise;
  });
}

/** One raise by id, within the org when `orgId` is given; undefined when there is none. */
export async function findCarbonRaise(
  db: Db,
  params: { raiseId: string; orgId?: string },
): Promise<CarbonRaise | undefined> {
  const [raise] = await db
    .select(raiseColumns)
    .from(carbonRaises)
    .where(
      and(
        eq(carbonRaises.id, params.raiseId),
        params.orgId === undefined ? undefined : eq(carbonRaises.orgId, params.orgId),
      ),
    )
    .limit(1);
  return raise;
}

/**
 * Decides a pending raise: a conditional update from `pending`, so of two concurrent decisions
 * exactly one changes the row. The winner's outbox row (the relay signals the workflow) and audit
 * row commit with it. Answers `won: false` with the row as it stands when someone decided first.
 */
export async function decideCarbonRaiseIfPending(
  db: Db,
  params: {
    raiseId: string;
    state: 'approved' | 'denied';
    decidedBy: string;
    decidedAt: Date;
    grantedMicrograms: bigint | null;
    grantedPeriod: string | null;
    note: string | null;
    actor: string;
  },
): Promise<{ won: boolean; raise: CarbonRaise | undefined }> {
  return db.transaction(async (tx) => {
    const [raise] = await tx
      .update(carbonRaises)
      .set({
        state: params.state,
        decidedBy: params.decidedBy,
        decidedAt: params.decidedAt,
        grantedMicrograms: params.grantedMicrograms,
        grantedPeriod: params.grantedPeriod,
        note: params.note,
      })
      .where(and(eq(carbonRaises.id, params.raiseId), eq(carbonRaises.state, 'pending')))
      .returning(raiseColumns);
    if (raise === undefined) return { won: false, raise: await findCarbonRaise(tx, { raiseId: params.raiseId }) };
    await tx.insert(outbox).values({ requestId: raise.id, kind: carbonRaiseOutboxKinds.decided }).onConflictDoNothing();
    await writeAudit(tx, {
      orgId: raise.orgId,
      actor: params.actor,
      action: `carbon.raise.${raise.state === 'approved' ? 'approve' : 'deny'}`,
      entityType: 'carbon_raise',
      entityId: raise.id,
      before: { state: 'pending' },
      after: raise,
    });
    return { won: true, raise };
  });
}

/** Marks an approved `until` raise ended at `endedAt` (its last period's close); a second call changes nothing. */
export async function endCarbonRaise(db: Db, params: { raiseId: string; endedAt: Date }): Promise<void> {
  await db
    .update(carbonRaises)
    .set({ endedAt: params.endedAt })
    .where(and(eq(carbonRaises.id, params.raiseId), isNull(carbonRaises.endedAt)));
}

/** Whose raises a listing may show: the whole org; or a user's own plus, with `teamId`, the team's and its members'. */
export type CarbonRaiseVisibility = { orgId: string } | { orgId: string; teamId: string | null; userId: string };

/** The org's raises visible to the caller, newest first, at most {@link carbonRaisesListMax}. */
export async function listCarbonRaises(
  db: Db,
  params: { visibility: CarbonRaiseVisibility; state?: CarbonRaiseState; limit?: number },
): Promise<CarbonRaise[]> {
  const visibility = params.visibility;
  let whose: SQL | undefined;
  if ('userId' in visibility) {
    const own = eq(carbonRaises.requestedBy, visibility.userId);
    const ownScope = and(eq(carbonRaises.scope, 'user'), eq(carbonRaises.scopeId, visibility.userId));
    const team =
      visibility.teamId === null
        ? undefined
        : or(
            and(eq(carbonRaises.scope, 'team'), eq(carbonRaises.scopeId, visibility.teamId)),
            inArray(
              carbonRaises.requestedBy,
              db.select({ id: users.id }).from(users).where(eq(users.teamId, visibility.teamId)),
            ),
          );
    whose = or(own, ownScope, team);
  }
  const limit = Math.min(Math.max(params.limit ?? carbonRaisesListMax, 1), carbonRaisesListMax);
  return db
    .select(raiseColumns)
    .from(carbonRaises)
    .where(
      and(
        eq(carbonRaises.orgId, visibility.orgId),
        params.state === undefined ? undefined : eq(carbonRaises.state, params.state),
        whose,
      ),
    )
    .orderBy(desc(carbonRaises.createdAt), desc(carbonRaises.id))
    .limit(limit);
}

/** An undelivered outbox row of a raise, with what its workflow's input needs. */
export interface PendingCarbonRaiseOutboxRow {
  id: bigint;
  kind: CarbonRaiseOutboxKind;
  raiseId: string;
  deadlineAt: Date;
}

/** Undelivered outbox rows of raises (starts and decisions), oldest first, at most `limit`. */
export async function pendingCarbonRaiseOutboxRows(
  db: Db,
  params: { limit: number },
): Promise<PendingCarbonRaiseOutboxRow[]> {
  const rows = await db
    .select({ id: outbox.id, kind: outbox.kind, raiseId: carbonRaises.id, deadlineAt: carbonRaises.deadlineAt })
    .from(outbox)
    .innerJoin(carbonRaises, sql`${carbonRaises.id}::text = ${outbox.requestId}`)
    .where(
      and(
        isNull(outbox.deliveredAt),
        or(eq(outbox.kind, carbonRaiseOutboxKinds.start), eq(outbox.kind, carbonRaiseOutboxKinds.decided)),
      ),
    )
    .orderBy(asc(outbox.id))
    .limit(params.limit);
  return rows.map((row) => ({ ...row, kind: row.kind as CarbonRaiseOutboxKind }));
}

/** A user as messages name them (`Name <email>`), or undefined when there is no such user. */
export async function findUserLabel(db: Db, params: { userId: string }): Promise<string | undefined> {
  const [row] = await db
    .select({ email: users.email, displayName: users.displayName })
    .from(users)
    .where(eq(users.id, params.userId))
    .limit(1);
  return row === undefined ? undefined : `${row.displayName} <${row.email}>`;
}

/** A notification recorded at most once: a row with the same `dedupeKey` already there means nothing is inserted. */
export interface OnceNotification {
  orgId: string;
  userId: string;
  kind: string;
  payload: Record<string, unknown>;
  dedupeKey: string;
}

/** Records notifications, each once by its dedupe key (so an activity retry inserts nothing twice); returns how many were new. */
export async function insertNotificationsOnce(db: Db, params: { rows: OnceNotification[] }): Promise<number> {
  if (params.rows.length === 0) return 0;
  const inserted = await db
    .insert(notifications)
    .values(params.rows)
    .onConflictDoNothing({ target: notifications.dedupeKey, where: sql`${notifications.dedupeKey} is not null` })
    .returning({ id: notifications.id });
  return inserted.length;
}
