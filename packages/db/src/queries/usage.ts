import { and, asc, desc, eq, gte, lt, max, or, sql, type SQL } from 'drizzle-orm';
import type { Db } from '../client';
import { apiKeys, settlements, usageRecords } from '../schema/index';
import { usageInScope, type UsageScope } from './usage-scope';

/** A stored usage row, every column. */
export type UsageRecord = typeof usageRecords.$inferSelect;

/** Usage with its settlement, named column by column: what people may see of a request. */
const usageWithSettlementColumns = {
  requestId: usageRecords.requestId,
  userId: usageRecords.userId,
  teamId: usageRecords.teamId,
  model: usageRecords.model,
  tier: usageRecords.tier,
  promptTokens: usageRecords.promptTokens,
  completionTokens: usageRecords.completionTokens,
  currency: usageRecords.currency,
  cost: usageRecords.cost,
  feeCurrency: usageRecords.feeCurrency,
  fee: usageRecords.fee,
  /** Operational + embodied: what caps count. */
  co2eMicrograms: usageRecords.co2eMicrograms,
  operationalCo2eMicrograms: usageRecords.operationalCo2eMicrograms,
  embodiedCo2eMicrograms: usageRecords.embodiedCo2eMicrograms,
  marketCo2eMicrograms: usageRecords.marketCo2eMicrograms,
  carbonMethodology: usageRecords.carbonMethodology,
  carbonAssumed: usageRecords.carbonAssumed,
  latencyMs: usageRecords.latencyMs,
  outcome: usageRecords.outcome,
  priceListVersion: usageRecords.priceListVersion,
  /** The client's `x-tokenwise-session` and `x-tokenwise-experiment` tags (null when not sent). */
  sessionId: usageRecords.sessionId,
  experimentKey: usageRecords.experimentKey,
  variantKey: usageRecords.variantKey,
  createdAt: usageRecords.createdAt,
  score: settlements.score,
  confidence: settlements.confidence,
  refund: settlements.refund,
  refundCurrency: settlements.refundCurrency,
  settledAt: settlements.settledAt,
};

function selectUsageWithSettlement(db: Db) {
  return db
    .select(usageWithSettlementColumns)
    .from(usageRecords)
    .leftJoin(settlements, eq(settlements.requestId, usageRecords.requestId));
}

/** A usage row with its settlement's score and refund (null until settled). */
export type UsageWithSettlement = Awaited<ReturnType<typeof selectUsageWithSettlement>>[number];

/**
 * Usage in `scope` with its settlement, newest first (createdAt, then requestId), at most `limit`
 * rows after the keyset position `after` (exclusive), filtered by model, user and [from, to).
 */
export async function pageUsageWithSettlement(
  db: Db,
  params: {
    scope: UsageScope;
    model?: string;
    userId?: string;
    from?: Date;
    to?: Date;
    after?: { createdAt: Date; requestId: string };
    limit: number;
  },
): Promise<UsageWithSettlement[]> {
  const { after } = params;
  const conditions: (SQL | undefined)[] = [
    usageInScope(params.scope),
    params.model === undefined ? undefined : eq(usageRecords.model, params.model),
    params.userId === undefined ? undefined : eq(usageRecords.userId, params.userId),
    params.from === undefined ? undefined : gte(usageRecords.createdAt, params.from),
    params.to === undefined ? undefined : lt(usageRecords.createdAt, params.to),
    after === undefined
      ? undefined
      : or(
          lt(usageRecords.createdAt, after.createdAt),
          and(eq(usageRecords.createdAt, after.createdAt), lt(usageRecords.requestId, after.requestId)),
        ),
  ];
  return selectUsageWithSettlement(db)
    .where(and(...conditions))
    .orderBy(desc(usageRecords.createdAt), desc(usageRecords.requestId))
    .limit(params.limit);
}

/** One request's usage with its settlement, when it is in `scope`; undefined otherwise. */
export async function findUsageWithSettlement(
  db: Db,
  params: { scope: UsageScope; requestId: string },
): Promise<UsageWithSettlement | undefined> {
  const [row] = await selectUsageWithSettlement(db)
    .where(and(usageInScope(params.scope), eq(usageRecords.requestId, params.requestId)))
    .limit(1);
  return row;
}

/**
 * When the request is in `scope`: what the key it was made with was minted for (`plugin_dry_run`
 * for a dry run's own LLM calls; null for an ordinary key or a key since deleted). Undefined when
 * the request is not in `scope`.
 */
export async function findUsageKeyMintedFor(
  db: Db,
  params: { scope: UsageScope; requestId: string },
): Promise<{ mintedFor: 'judge' | 'plugin_dry_run' | null } | undefined> {
  const [row] = await db
    .select({ mintedFor: apiKeys.mintedFor })
    .from(usageRecords)
    .leftJoin(apiKeys, eq(apiKeys.id, usageRecords.keyId))
    .where(and(usageInScope(params.scope), eq(usageRecords.requestId, params.requestId)))
    .limit(1);
  return row;
}

/** The request's usage row, every column, or undefined when it has none. */
export async function findUsageRecord(db: Db, params: { requestId: string }): Promise<UsageRecord | undefined> {
  const [usage] = await db.select().from(usageRecords).where(eq(usageRecords.requestId, params.requestId)).limit(1);
  return usage;
}

/** Models a doctor lists at most. */
export const assumedCarbonModelsMax = 50;

/**
 * Models metered since `since` without a carbon profile (`carbon_assumed`), platform-wide: each
 * with its request count and its last such request, for `tokenwise doctor`.
 */
export async function modelsWithAssumedCarbon(
  db: Db,
  params: { since: Date },
): Promise<{ model: string; cluster: string; requests: number; lastAt: Date }[]> {
  const rows = await db
    .select({
      model: usageRecords.model,
      cluster: usageRecords.cluster,
      requests: sql<number>`count(*)::int`,
      lastAt: max(usageRecords.createdAt),
    })
    .from(usageRecords)
    .where(and(eq(usageRecords.carbonAssumed, true), gte(usageRecords.createdAt, params.since)))
    .groupBy(usageRecords.model, usageRecords.cluster)
    .orderBy(asc(usageRecords.model), asc(usageRecords.cluster))
    .limit(assumedCarbonModelsMax);
  return rows.map((row) => ({ ...row, lastAt: row.lastAt ?? params.since }));
}
