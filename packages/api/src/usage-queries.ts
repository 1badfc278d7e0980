import { ValidationError } from '@tokenwise/core';
import type { Db } from '@tokenwise/db';
import { settlements, usageRecords } from '@tokenwise/db/schema';
import { and, desc, eq, gte, lt, or, type SQL } from 'drizzle-orm';
import { decodeCursor, encodeCursor } from './inputs';

/** Usage with its settlement, named column by column: what people may see of a request. */
const usageWithScoreColumns = {
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
  co2eMicrograms: usageRecords.co2eMicrograms,
  latencyMs: usageRecords.latencyMs,
  outcome: usageRecords.outcome,
  priceListVersion: usageRecords.priceListVersion,
  createdAt: usageRecords.createdAt,
  score: settlements.score,
  confidence: settlements.confidence,
  refund: settlements.refund,
  refundCurrency: settlements.refundCurrency,
  settledAt: settlements.settledAt,
};

function selectUsage(db: Db) {
  return db
    .select(usageWithScoreColumns)
    .from(usageRecords)
    .leftJoin(settlements, eq(settlements.requestId, usageRecords.requestId));
}

type Row = Awaited<ReturnType<typeof selectUsage>>[number];

/** A usage row as the API returns it: times as ISO strings (JSON has no dates), amounts as bigint. */
export type UsageView = ReturnType<typeof toView>;

function toView(row: Row) {
  return {
    ...row,
    /** grams of CO2e with six decimals, exact (micrograms / 1e6). */
    co2eGrams: gramsOf(row.co2eMicrograms),
    createdAt: row.createdAt.toISOString(),
    settledAt: row.settledAt === null ? null : row.settledAt.toISOString(),
  };
}

function gramsOf(micrograms: bigint): string {
  const sign = micrograms < 0n ? '-' : '';
  const abs = micrograms < 0n ? -micrograms : micrograms;
  return `${sign}${abs / 1_000_000n}.${(abs % 1_000_000n).toString().padStart(6, '0')}`;
}

export interface UsageFilter {
  visible: SQL;
  model?: string;
  from?: string;
  to?: string;
  userId?: string;
  cursor?: string;
  limit: number;
}

/** A page of usage, newest first, keyset-paginated on (createdAt, requestId). */
export async function listUsage(
  db: Db,
  filter: UsageFilter,
): Promise<{ items: UsageView[]; nextCursor: string | null }> {
  const after = filter.cursor === undefined ? undefined : decodeCursor(filter.cursor);
  if (filter.cursor !== undefined && after === undefined)
    throw new ValidationError('Invalid cursor: pass nextCursor from the previous page unchanged.', {
      issues: ['cursor: malformed'],
    });
  const conditions: (SQL | undefined)[] = [
    filter.visible,
    filter.model === undefined ? undefined : eq(usageRecords.model, filter.model),
    filter.userId === undefined ? undefined : eq(usageRecords.userId, filter.userId),
    filter.from === undefined ? undefined : gte(usageRecords.createdAt, new Date(filter.from)),
    filter.to === undefined ? undefined : lt(usageRecords.createdAt, new Date(filter.to)),
    after === undefined
      ? undefined
      : or(
          lt(usageRecords.createdAt, after.createdAt),
          and(eq(usageRecords.createdAt, after.createdAt), lt(usageRecords.requestId, after.requestId)),
        ),
  ];
  const rows = await selectUsage(db)
    .where(and(...conditions))
    .orderBy(desc(usageRecords.createdAt), desc(usageRecords.requestId))
    .limit(filter.limit + 1);
  const page = rows.slice(0, filter.limit);
  const last = page.at(-1);
  return {
    items: page.map(toView),
    nextCursor: rows.length > filter.limit && last !== undefined ? encodeCursor(last.createdAt, last.requestId) : null,
  };
}

/** One request's usage and settlement, if the caller may see it; undefined otherwise. */
export async function findUsage(db: Db, params: { visible: SQL; requestId: string }): Promise<UsageView | undefined> {
  const [row] = await selectUsage(db)
    .where(and(params.visible, eq(usageRecords.requestId, params.requestId)))
    .limit(1);
  return row === undefined ? undefined : toView(row);
}
