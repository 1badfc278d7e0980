import { and, desc, eq, gte, lt, sql } from 'drizzle-orm';
import type { Db } from '../client';
import { settlements, usageRecords } from '../schema/index';
import { usageInScope, type UsageScope } from './usage-scope';

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

/** One user's usage and score totals over a period; amounts in minor units, carbon in micrograms CO2e. */
export interface UserScoreTotals {
  userId: string | null;
  requests: number;
  scoredRequests: number;
  tokens: number;
  costMinorUnits: bigint;
  refundMinorUnits: bigint;
  co2eMicrograms: bigint;
  meanScore: number | null;
  valuePer1kTokens: number | null;
}

/**
 * Per-user score totals of the usage in `scope` created in [from, to) (never system usage), ordered
 * by value per 1k tokens, best first; with `scoredOnly`, only users with at least one scored request.
 */
export async function scoresPerUser(
  db: Db,
  params: { scope: UsageScope; from?: Date; to?: Date; limit: number; scoredOnly: boolean },
): Promise<UserScoreTotals[]> {
  const rows = await db
    .select(perUserColumns)
    .from(usageRecords)
    .leftJoin(settlements, eq(settlements.requestId, usageRecords.requestId))
    .where(
      and(
        usageInScope(params.scope),
        eq(usageRecords.system, false),
        params.from === undefined ? undefined : gte(usageRecords.createdAt, params.from),
        params.to === undefined ? undefined : lt(usageRecords.createdAt, params.to),
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
export async function findSettlementDetail(db: Db, params: { requestId: string }) {
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
  return row;
}
