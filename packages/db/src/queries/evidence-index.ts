import { invariant } from '@tokenwise/core';
import { and, asc, count, eq, gt, inArray, lte, sql } from 'drizzle-orm';
import type { Db } from '../client';
import { evidenceIndex } from '../schema/index';

/** Keys written per statement (bind parameters stay well under PostgreSQL's 65,535). */
const keysPerInsertMax = 1_000;
/** Keys one lookup may ask for. */
export const evidenceLookupKeysMax = 20_000;
/** Requests one lookup returns at most. */
export const evidenceLookupRequestsMax = 10_000;

/**
 * Indexes a waiting request's evidence keys until `expiresAt`. Idempotent: a retried activity or a
 * second poll writes nothing new.
 */
export async function indexEvidenceKeys(
  db: Db,
  params: {
    orgId: string;
    pluginId: string;
    requestId: string;
    requestCreatedAt: Date;
    expiresAt: Date;
    keys: readonly string[];
  },
): Promise<void> {
  const keys = [...new Set(params.keys)];
  for (let start = 0; start < keys.length; start += keysPerInsertMax) {
    const rows = keys.slice(start, start + keysPerInsertMax).map((key) => ({
      orgId: params.orgId,
      pluginId: params.pluginId,
      key,
      requestId: params.requestId,
      requestCreatedAt: params.requestCreatedAt,
      expiresAt: params.expiresAt,
    }));
    await db.insert(evidenceIndex).values(rows).onConflictDoNothing();
  }
}

/** A request some of the looked-up keys point to, with how many of them. */
export interface EvidenceIndexHit {
  requestId: string;
  requestCreatedAt: Date;
  keysMatched: number;
}

/**
 * The org's requests still waiting on `pluginId` evidence under any of `keys`, with how many keys
 * each matched, most matches first, then oldest first (earliest request wins a tie). Expired keys
 * never match.
 */
export async function findRequestsByEvidenceKeys(
  db: Db,
  params: { orgId: string; pluginId: string; keys: readonly string[]; now: Date; limit?: number },
): Promise<EvidenceIndexHit[]> {
  invariant(params.keys.length <= evidenceLookupKeysMax, `at most ${evidenceLookupKeysMax} keys per lookup`);
  if (params.keys.length === 0) return [];
  const limit = Math.min(params.limit ?? evidenceLookupRequestsMax, evidenceLookupRequestsMax);
  const keysMatched = count();
  return db
    .select({
      requestId: evidenceIndex.requestId,
      requestCreatedAt: sql<Date>`min(${evidenceIndex.requestCreatedAt})`.mapWith(evidenceIndex.requestCreatedAt),
      keysMatched,
    })
    .from(evidenceIndex)
    .where(
      and(
        eq(evidenceIndex.orgId, params.orgId),
        eq(evidenceIndex.pluginId, params.pluginId),
        inArray(evidenceIndex.key, [...params.keys]),
        gt(evidenceIndex.expiresAt, params.now),
      ),
    )
    .groupBy(evidenceIndex.requestId)
    .orderBy(sql`count(*) desc`, asc(sql`min(${evidenceIndex.requestCreatedAt})`), asc(evidenceIndex.requestId))
    .limit(limit);
}

/** Deletes up to `limit` keys whose window closed by `now`; returns how many it deleted. */
export async function purgeExpiredEvidenceKeys(db: Db, params: { now: Date; limit: number }): Promise<number> {
  const doomed = db
    .select({
      orgId: evidenceIndex.orgId,
      pluginId: evidenceIndex.pluginId,
      key: evidenceIndex.key,
      requestId: evidenceIndex.requestId,
    })
    .from(evidenceIndex)
    .where(lte(evidenceIndex.expiresAt, params.now))
    .limit(params.limit);
  const deleted = await db
    .delete(evidenceIndex)
    .where(
      sql`(${evidenceIndex.orgId}, ${evidenceIndex.pluginId}, ${evidenceIndex.key}, ${evidenceIndex.requestId}) in (${doomed})`,
    )
    .returning({ requestId: evidenceIndex.requestId });
  return deleted.length;
}
