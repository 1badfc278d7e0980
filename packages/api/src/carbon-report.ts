import { microgramsToGrams, NotFoundError, zonedMidnight } from '@tokenwise/core';
import {
  carbonReportGroupings,
  carbonReportTotals,
  findOrgTimeZone,
  type CarbonReportTotals,
  type Db,
  type UsageScope,
} from '@tokenwise/db';
import { z } from 'zod';
import { hasRole } from './scope';
import type { ApiUser } from './context';

/** The longest range one report covers: a year and then some (a fiscal year, a quarter either side). */
export const carbonReportDaysMax = 400;

const dayMs = 86_400_000;
const isoDatePattern = /^(\d{4})-(\d{2})-(\d{2})$/;

/** Milliseconds of `YYYY-MM-DD` at UTC midnight, or undefined when it is no calendar date (2026-02-30). */
function utcDayMs(text: string): number | undefined {
  const match = isoDatePattern.exec(text);
  if (match === null) return undefined;
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
  const ms = Date.UTC(year, month - 1, day);
  const back = new Date(ms);
  return back.getUTCFullYear() === year && back.getUTCMonth() === month - 1 && back.getUTCDate() === day
    ? ms
    : undefined;
}

const isoDate = (field: 'from' | 'to') =>
  z
    .string({ error: `${field} must be an ISO date YYYY-MM-DD in the org's time zone` })
    .max(10, { error: `${field} must be an ISO date YYYY-MM-DD, such as 2026-12-01` })
    .refine((text) => utcDayMs(text) !== undefined, {
      error: (issue) => `${field} must be an ISO date YYYY-MM-DD, such as 2026-12-01; got "${String(issue.input)}"`,
    });

/**
 * A report's input: `from` and `to` are calendar days in the org's time zone, `to` exclusive
 * (December is from 2026-12-01 to 2027-01-01), at most {@link carbonReportDaysMax} days apart.
 */
export const carbonReportInput = z
  .object({
    from: isoDate('from'),
    to: isoDate('to'),
    groupBy: z.enum(carbonReportGroupings, {
      error: `groupBy must be one of ${carbonReportGroupings.join(', ')}`,
    }),
  })
  .superRefine((input, ctx) => {
    const from = utcDayMs(input.from);
    const to = utcDayMs(input.to);
    if (from === undefined || to === undefined) return;
    if (from >= to)
      ctx.addIssue({
        code: 'custom',
        path: ['to'],
        message: `to (${input.to}) must be after from (${input.from}); to is exclusive, so one day is from=${input.from}&to=${new Date(from + dayMs).toISOString().slice(0, 10)}`,
      });
    else if ((to - from) / dayMs > carbonReportDaysMax)
      ctx.addIssue({
        code: 'custom',
        path: ['to'],
        message: `a report covers at most ${carbonReportDaysMax} days; ${input.from} to ${input.to} is ${(to - from) / dayMs}: split it`,
      });
  });
export type CarbonReportInput = z.infer<typeof carbonReportInput>;

/** One row of an emission report: JSON numbers, grams with at most 6 decimals. */
export interface CarbonReportRow {
  /** Team or user id, model, cluster, ISO day in the org's time zone, or `system` for system usage. */
  key: string;
  /** What people read: team slug, user email; the key itself for the other groupings. */
  label: string;
  requests: number;
  promptTokens: number;
  completionTokens: number;
  energyKwh: number;
  operationalGrams: number;
  embodiedGrams: number;
  totalGrams: number;
  gramsPer1kTokens: number | null;
  /**
   * Carbon spent per unit of proven value: the total grams of the group's settled requests that
   * have a value score, divided by the sum of those scores. Null when none is scored or the
   * scores sum to 0. Requests not (yet) scored count in `totalGrams`, never here.
   */
  gramsPerValue: number | null;
}

/** Integer micro-Wh as kWh (a micro-Wh is 1e-9 kWh). */
function microWhToKwh(microWh: bigint): number {
  return Number(microWh / 1_000_000_000n) + Number(microWh % 1_000_000_000n) / 1e9;
}

/** `numerator / denominator` rounded half up, both non-negative integers. */
function roundedQuotient(numerator: bigint, denominator: bigint): bigint {
  return (numerator * 2n + denominator) / (denominator * 2n);
}

/** A group's totals as a report row; per-1k-tokens exact to the microgram, per-value to the microgram. */
export function carbonReportRow(totals: CarbonReportTotals): CarbonReportRow {
  const tokens = totals.promptTokens + totals.completionTokens;
  const per1k = tokens === 0n ? null : microgramsToGrams(roundedQuotient(totals.totalMicrograms * 1000n, tokens));
  const perValue =
    totals.scoreSum === null || !(totals.scoreSum > 0)
      ? null
      : microgramsToGrams(BigInt(Math.round(Number(totals.scoredMicrograms) / totals.scoreSum)));
  return {
    key: totals.key,
    label: totals.label,
    requests: totals.requests,
    promptTokens: Number(totals.promptTokens),
    completionTokens: Number(totals.completionTokens),
    energyKwh: microWhToKwh(totals.energyMicroWh),
    operationalGrams: microgramsToGrams(totals.operationalMicrograms),
    embodiedGrams: microgramsToGrams(totals.embodiedMicrograms),
    totalGrams: microgramsToGrams(totals.totalMicrograms),
    gramsPer1kTokens: per1k,
    gramsPerValue: perValue,
  };
}

/** Whose usage a user's reports cover: ESG officers and admins the org's (system usage too), a lead the team's, anyone else their own. */
export function reportScopeOf(user: ApiUser): UsageScope {
  if (hasRole(user, 'admin') || hasRole(user, 'esg')) return { orgId: user.orgId };
  if (hasRole(user, 'lead') && user.teamId !== null) return { orgId: user.orgId, teamId: user.teamId };
  return { orgId: user.orgId, userId: user.userId };
}

/** The instants a report's days span in `timeZone`: [from's midnight, to's midnight). */
export function reportInstants(input: Pick<CarbonReportInput, 'from' | 'to'>, timeZone: string) {
  const midnight = (day: string) => {
    const [year, month, date] = day.split('-').map(Number) as [number, number, number];
    return zonedMidnight(year, month, date, timeZone);
  };
  return { from: midnight(input.from), to: midnight(input.to) };
}

/** The emission report of the usage in `scope` (which names the org), grouped and dated in the org's time zone. */
export async function carbonReport(
  db: Db,
  params: { orgId: string; scope: UsageScope; input: CarbonReportInput },
): Promise<CarbonReportRow[]> {
  const timeZone = await findOrgTimeZone(db, { orgId: params.orgId });
  if (timeZone === undefined) throw new NotFoundError(`No org ${params.orgId}.`);
  const totals = await carbonReportTotals(db, {
    scope: { ...params.scope, orgId: params.orgId },
    ...reportInstants(params.input, timeZone),
    timeZone,
    groupBy: params.input.groupBy,
  });
  return totals.map(carbonReportRow);
}
