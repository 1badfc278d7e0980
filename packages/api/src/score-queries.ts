import type { Db } from '@tokenwise/db';
import { settlements, usageRecords } from '@tokenwise/db/schema';
import { and, desc, eq, gte, lt, sql, type SQL } from 'drizzle-orm';

const tokens = sql`(${usageRecords.promptTokens} + ${usageRecords.completionTokens})`;

/**
 * Per-user totals with value per token: the sum of scores of scored requests per 1,000 tokens those
 * requests spent. Consumption alone never ranks anyone higher; useful work per token does.
 */
const perUserColumns = {
  userId: usageRecords.userId,
  requests: sql<number>`count(*)::int`,
  scoredRequests: sql<number>`count(${settlements.score})::int`,
  tokens: sql<number>`coalesce(sum(${tokens}), 0)::float8`,
  costMinorUnits: sql<string>`coalesce(sum(${usageRecords.cost}), 0)::text`,
  refundMinorUnits: sql<string>`coalesce(sum(${settlements.refund}), 0)::text`,
  co2eMicrograms: sql<string>`coalesce(sum(${usageRecords.co2eMicrograms}), 0)::text`,
  meanScore: sql<number | null>`avg(${settlements.score})::float8`,
  valuePer1kTokens: sql<
    number | null
  >`(sum(${settlements.score}) * 1000 / nullif(sum(${tokens}) filter (where ${settlements.score} is not null), 0))::float8`,
};

export interface PeriodFilter {
  where: SQL;
  from?: string;
  to?: string;
}

/** Per-user score totals of the usage matching `where` (never system usage), ordered by value per 1k tokens. */
export async function scoresPerUser(db: Db, params: PeriodFilter & { limit: number; scoredOnly: boolean }) {
  const rows = await db
    .select(perUserColumns)
    .from(usageRecords)
    .leftJoin(settlements, eq(settlements.requestId, usageRecords.requestId))
    .where(
      and(
        params.where,
        eq(usageRecords.system, false),
        params.from === undefined ? undefined : gte(usageRecords.createdAt, new Date(params.from)),
        params.to === undefined ? undefined : lt(usageRecords.createdAt, new Date(params.to)),
      ),
    )
    .groupBy(usageRecords.userId)
    .having(params.scoredOnly ? sql`count(${settlements.score}) > 0` : undefined)
    .orderBy(sql`${perUserColumns.valuePer1kTokens} desc nulls last`, desc(usageRecords.userId))
    .limit(params.limit);
  return rows.map((row) => ({
    userId: row.userId,
    requests: row.requests,
    scoredRequests: row.scoredRequests,
    tokens: row.tokens,
    costMinorUnits: BigInt(row.costMinorUnits),
    refundMinorUnits: BigInt(row.refundMinorUnits),
    co2eMicrograms: BigInt(row.co2eMicrograms),
    meanScore: row.meanScore,
    valuePer1kTokens: row.valuePer1kTokens,
  }));
}

/** One request's settlement detail (plugin results and reason), or undefined when not settled yet. */
export async function findSettlement(db: Db, params: { requestId: string }) {
  const [row] = await db
    .select({
      requestId: settlements.requestId,
      score: settlements.score,
      confidence: settlements.confidence,
      policyVersion: settlements.policyVersion,
      refund: settlements.refund,
      refundCurrency: settlements.refundCurrency,
      reward: settlements.reward,
      rewardCurrency: settlements.rewardCurrency,
      results: settlements.results,
      reason: settlements.reason,
      settledAt: settlements.settledAt,
    })
    .from(settlements)
    .where(eq(settlements.requestId, params.requestId))
    .limit(1);
  return row === undefined ? undefined : { ...row, settledAt: row.settledAt.toISOString() };
}
