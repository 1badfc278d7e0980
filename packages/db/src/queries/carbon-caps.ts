import type { CarbonPeriodKind, CarbonScope } from '@tokenwise/core';
import { and, desc, eq, gt, gte, isNotNull, isNull, lt, sql } from 'drizzle-orm';
import type { Db } from '../client';
import { carbonCaps, carbonRaises, notifications, usageRecords, users } from '../schema/index';
import { writeAudit } from './audit';

/** The newest version of one scope's cap; `hardMicrograms` null means the cap was removed. */
export interface CarbonCapVersion {
  orgId: string;
  scope: CarbonScope;
  scopeId: string;
  version: number;
  period: CarbonPeriodKind;
  hardMicrograms: bigint | null;
  softPercent: number | null;
  createdBy: string;
  createdAt: Date;
}

const capColumns = {
  orgId: carbonCaps.orgId,
  scope: carbonCaps.scope,
  scopeId: carbonCaps.scopeId,
  version: carbonCaps.version,
  period: carbonCaps.period,
  hardMicrograms: carbonCaps.hardMicrograms,
  softPercent: carbonCaps.softPercent,
  createdBy: carbonCaps.createdBy,
  createdAt: carbonCaps.createdAt,
};

/** The scope's current cap version (maybe one that removed the cap), or undefined if none was ever set. */
export async function currentCarbonCap(
  db: Db,
  params: { scope: CarbonScope; scopeId: string },
): Promise<CarbonCapVersion | undefined> {
  const [row] = await db
    .select(capColumns)
    .from(carbonCaps)
    .where(and(eq(carbonCaps.scope, params.scope), eq(carbonCaps.scopeId, params.scopeId)))
    .orderBy(desc(carbonCaps.version))
    .limit(1);
  return row;
}

/** The current version of every scope's cap in the org that still caps something (removed ones left out). */
export async function currentCarbonCapsOfOrg(db: Db, params: { orgId: string }): Promise<CarbonCapVersion[]> {
  const rows = await db
    .selectDistinctOn([carbonCaps.scope, carbonCaps.scopeId], capColumns)
    .from(carbonCaps)
    .where(eq(carbonCaps.orgId, params.orgId))
    .orderBy(carbonCaps.scope, carbonCaps.scopeId, desc(carbonCaps.version));
  return rows.filter((row) => row.hardMicrograms !== null);
}

/**
 * Publishes the scope's next cap version (audited) in one transaction; the version number comes
 * from the newest row under a transaction-scoped advisory lock on the scope, so two concurrent
 * changes get distinct versions in the order they commit.
 */
export async function publishCarbonCap(
  db: Db,
  params: {
    orgId: string;
    scope: CarbonScope;
    scopeId: string;
    period: CarbonPeriodKind;
    hardMicrograms: bigint | null;
    softPercent: number | null;
    actor: string;
  },
): Promise<{ previous: CarbonCapVersion | undefined; current: CarbonCapVersion }> {
  return db.transaction(async (tx) => {
    await tx.execute(sql`select pg_advisory_xact_lock(hashtextextended(${`carbon-cap:${params.scopeId}`}, 0))`);
    const previous = await currentCarbonCap(tx, params);
    const [current] = await tx
      .insert(carbonCaps)
      .values({
        orgId: params.orgId,
        scope: params.scope,
        scopeId: params.scopeId,
        version: (previous?.version ?? 0) + 1,
        period: params.period,
        hardMicrograms: params.hardMicrograms,
        softPercent: params.softPercent,
        createdBy: params.actor,
      })
      .returning(capColumns);
    if (current === undefined) throw new Error('insert into carbon_caps returned no row');
    await writeAudit(tx, {
      orgId: params.orgId,
      actor: params.actor,
      action: 'carbon.cap.set',
      entityType: `carbon_cap_${params.scope}`,
      entityId: params.scopeId,
      before: previous ?? null,
      after: current,
    });
    return { previous, current };
  });
}

/** An approved raise that reaches past the period it was decided in (`until`), not yet ended. */
export interface UntilRaise {
  id: string;
  scope: CarbonScope;
  scopeId: string;
  grantedMicrograms: bigint;
  /** Last day it applies to, `YYYY-MM-DD` in the org's time zone. */
  until: string;
  grantedPeriod: string | null;
}

/** The org's approved `until` raises still running: the gateway funds them into each later period. */
export async function activeUntilRaises(db: Db, params: { orgId: string }): Promise<UntilRaise[]> {
  const rows = await db
    .select({
      id: carbonRaises.id,
      scope: carbonRaises.scope,
      scopeId: carbonRaises.scopeId,
      grantedMicrograms: carbonRaises.grantedMicrograms,
      until: carbonRaises.until,
      grantedPeriod: carbonRaises.grantedPeriod,
    })
    .from(carbonRaises)
    .where(
      and(
        eq(carbonRaises.orgId, params.orgId),
        eq(carbonRaises.state, 'approved'),
        isNotNull(carbonRaises.until),
        isNull(carbonRaises.endedAt),
        gt(carbonRaises.grantedMicrograms, 0n),
      ),
    );
  return rows.flatMap((row) =>
    row.until === null || row.grantedMicrograms === null
      ? []
      : [{ ...row, until: row.until, grantedMicrograms: row.grantedMicrograms }],
  );
}

/** The org's ESG officers (user ids): they receive cap alerts and raise requests. */
export async function esgOfficersOf(db: Db, params: { orgId: string }): Promise<string[]> {
  const rows = await db
    .select({ id: users.id })
    .from(users)
    .where(and(eq(users.orgId, params.orgId), sql`${users.roles} @> array['esg']::text[]`));
  return rows.map((row) => row.id);
}

/**
 * Records notifications that must exist once (their dedupe keys are unique): a retry, a second
 * gateway or a concurrent request records nothing twice. Returns how many were new.
 */
export async function recordNotificationsOnce(
  db: Db,
  rows: { orgId: string; userId: string | null; kind: string; payload: unknown; dedupeKey: string }[],
): Promise<number> {
  if (rows.length === 0) return 0;
  const inserted = await db
    .insert(notifications)
    .values(rows)
    .onConflictDoNothing({ target: notifications.dedupeKey, where: sql`${notifications.dedupeKey} is not null` })
    .returning({ id: notifications.id });
  return inserted.length;
}

/** Micrograms CO2e of the usage rows of a scope (org: all of it, system usage included) in [from, to). */
export async function carbonEmittedBetween(
  db: Db,
  params: { orgId: string; scope: CarbonScope; scopeId: string; from: Date; to: Date },
): Promise<bigint> {
  const scoped =
    params.scope === 'org'
      ? eq(usageRecords.orgId, params.orgId)
      : params.scope === 'team'
        ? and(eq(usageRecords.orgId, params.orgId), eq(usageRecords.teamId, params.scopeId))
        : and(eq(usageRecords.orgId, params.orgId), eq(usageRecords.userId, params.scopeId));
  const [row] = await db
    .select({ total: sql<string>`coalesce(sum(${usageRecords.co2eMicrograms}), 0)::text` })
    .from(usageRecords)
    .where(and(scoped, gte(usageRecords.createdAt, params.from), lt(usageRecords.createdAt, params.to)));
  return BigInt(row?.total ?? '0');
}

/** The user ids of a team's members (a lead sees their members' caps). */
export async function teamMemberIds(db: Db, params: { orgId: string; teamId: string }): Promise<string[]> {
  const rows = await db
    .select({ id: users.id })
    .from(users)
    .where(and(eq(users.orgId, params.orgId), eq(users.teamId, params.teamId)));
  return rows.map((row) => row.id);
}
