import { invariant, ValidationError } from '@tokenwise/core';
import { and, asc, desc, eq, gte, lt, sql, type SQL, type SQLWrapper } from 'drizzle-orm';
import type { Db } from '../client';
import { settlements, teams, usageRecords, users } from '../schema/index';
import { usageInScope, type UsageScope } from './usage-scope';

/** What an emission report may be grouped by. */
export const carbonReportGroupings = ['team', 'user', 'model', 'cluster', 'day'] as const;
export type CarbonReportGroupBy = (typeof carbonReportGroupings)[number];

/** The key of usage that belongs to no person (judge calls and other system usage). */
export const systemReportKey = 'system';
/** The team key of a person's usage made while they belonged to no team (an ESG officer, say). */
export const noTeamReportKey = 'no-team';

/** Groups one report may hold; more is refused rather than cut, so a report never silently drops usage. */
export const carbonReportGroupsMax = 10_000;

/** One group's exact totals: sums in the units the usage rows store them (micrograms, micro-Wh). */
export interface CarbonReportTotals {
  key: string;
  label: string;
  requests: number;
  promptTokens: bigint;
  completionTokens: bigint;
  energyMicroWh: bigint;
  operationalMicrograms: bigint;
  embodiedMicrograms: bigint;
  totalMicrograms: bigint;
  /** Total emissions of the group's settled requests that have a value score. */
  scoredMicrograms: bigint;
  /** The sum of those requests' value scores; null when none is scored. */
  scoreSum: number | null;
}

const systemKey = sql`${systemReportKey}`;

/** The group key and its human label for each grouping; `day` is the calendar day in `timeZone`. */
function keyAndLabel(groupBy: CarbonReportGroupBy, timeZone: string): { key: SQL<string>; label: SQL<string> } {
  const person = sql`${usageRecords.userId} is null`;
  switch (groupBy) {
    case 'team': {
      const key = sql<string>`case when ${person} then ${systemKey} else coalesce(${usageRecords.teamId}::text, ${noTeamReportKey}) end`;
      const label = sql<string>`case when ${person} then ${systemKey} else coalesce(${teams.slug}, ${noTeamReportKey}) end`;
      return { key, label };
    }
    case 'user':
      return {
        key: sql<string>`coalesce(${usageRecords.userId}::text, ${systemKey})`,
        label: sql<string>`case when ${person} then ${systemKey} else coalesce(${users.email}, ${usageRecords.userId}::text) end`,
      };
    case 'model':
      return { key: sql<string>`${usageRecords.model}`, label: sql<string>`${usageRecords.model}` };
    case 'cluster':
      return { key: sql<string>`${usageRecords.cluster}`, label: sql<string>`${usageRecords.cluster}` };
    case 'day': {
      const day = sql<string>`to_char(${usageRecords.createdAt} at time zone ${timeZone}, 'YYYY-MM-DD')`;
      return { key: day, label: day };
    }
  }
}

/**
 * Emission totals of the usage in `scope` created in [from, to), one row per group: days in
 * order, every other grouping largest emitter first. Every sum is taken in SQL over bigint columns
 * (numeric, never a float), so the groups add up to the usage rows exactly.
 */
export async function carbonReportTotals(
  db: Db,
  params: { scope: UsageScope; from: Date; to: Date; timeZone: string; groupBy: CarbonReportGroupBy },
): Promise<CarbonReportTotals[]> {
  invariant(params.from.getTime() < params.to.getTime(), 'a report covers a non-empty range');
  const { key, label } = keyAndLabel(params.groupBy, params.timeZone);
  // Keys are computed in a subquery and grouped outside it: PostgreSQL would not recognise the
  // same parameterised expression in SELECT and GROUP BY (each gets its own placeholder).
  const rows = db
    .select({
      key: key.as('key'),
      label: label.as('label'),
      promptTokens: usageRecords.promptTokens,
      completionTokens: usageRecords.completionTokens,
      energyMicroWh: usageRecords.energyMicroWh,
      operational: usageRecords.operationalCo2eMicrograms,
      embodied: usageRecords.embodiedCo2eMicrograms,
      total: usageRecords.co2eMicrograms,
      score: settlements.score,
    })
    .from(usageRecords)
    .leftJoin(settlements, eq(settlements.requestId, usageRecords.requestId))
    .leftJoin(teams, eq(teams.id, usageRecords.teamId))
    .leftJoin(users, eq(users.id, usageRecords.userId))
    .where(
      and(usageInScope(params.scope), gte(usageRecords.createdAt, params.from), lt(usageRecords.createdAt, params.to)),
    )
    .as('report_rows');
  const sum = (column: SQLWrapper) => sql<string>`coalesce(sum(${column}), 0)::text`;
  const totalSum = sql`sum(${rows.total})`;
  const grouped = await db
    .select({
      key: rows.key,
      label: rows.label,
      requests: sql<number>`count(*)::int`,
      promptTokens: sum(rows.promptTokens),
      completionTokens: sum(rows.completionTokens),
      energyMicroWh: sum(rows.energyMicroWh),
      operationalMicrograms: sum(rows.operational),
      embodiedMicrograms: sum(rows.embodied),
      totalMicrograms: sum(rows.total),
      scoredMicrograms: sql<string>`coalesce(sum(${rows.total}) filter (where ${rows.score} is not null), 0)::text`,
      scoreSum: sql<number | null>`sum(${rows.score})::float8`,
    })
    .from(rows)
    .groupBy(rows.key, rows.label)
    .orderBy(...(params.groupBy === 'day' ? [asc(rows.key)] : [desc(totalSum), asc(rows.key)]))
    .limit(carbonReportGroupsMax + 1);
  if (grouped.length > carbonReportGroupsMax)
    throw new ValidationError(
      `A report holds at most ${carbonReportGroupsMax} rows; this one has more: choose a shorter range or a coarser grouping.`,
    );
  return grouped.map((row) => ({
    key: row.key,
    label: row.label,
    requests: row.requests,
    promptTokens: BigInt(row.promptTokens),
    completionTokens: BigInt(row.completionTokens),
    energyMicroWh: BigInt(row.energyMicroWh),
    operationalMicrograms: BigInt(row.operationalMicrograms),
    embodiedMicrograms: BigInt(row.embodiedMicrograms),
    totalMicrograms: BigInt(row.totalMicrograms),
    scoredMicrograms: BigInt(row.scoredMicrograms),
    scoreSum: row.scoreSum,
  }));
}
