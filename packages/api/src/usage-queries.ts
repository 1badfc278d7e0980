import { carbonSurchargeTerm, ValidationError, type CostTerm } from '@tokenwise/core';
import { loadPriceListsByVersion, type CurrentPriceList } from '@tokenwise/control';
import {
  findUsageWithSettlement,
  pageUsageWithSettlement,
  type Db,
  type UsageScope,
  type UsageWithSettlement,
} from '@tokenwise/db';
import { decodeCursor, encodeCursor } from './inputs';

/** A usage row as the API returns it: times as ISO strings (JSON has no dates), amounts as bigint. */
export type UsageView = ReturnType<typeof toView>;

/**
 * The carbon term of the request's cost: its total emissions (operational + embodied) at the
 * internal carbon price of the list that priced it; null when that list has no carbon price.
 */
function carbonSurchargeOf(
  row: UsageWithSettlement,
  lists: Map<number, CurrentPriceList>,
): (CostTerm & { perKgCo2e: bigint }) | null {
  const carbonPrice = lists.get(row.priceListVersion)?.list.carbonPrice;
  if (carbonPrice === undefined) return null;
  return { ...carbonSurchargeTerm(carbonPrice, row.co2eMicrograms), perKgCo2e: carbonPrice.perKgCo2e };
}

function toView(row: UsageWithSettlement, lists: Map<number, CurrentPriceList>) {
  return {
    ...row,
    carbonSurcharge: carbonSurchargeOf(row, lists),
    /** grams of CO2e with six decimals, exact (micrograms / 1e6): operational + embodied. */
    co2eGrams: gramsOf(row.co2eMicrograms),
    /** Energy x PUE x the cluster's location-based grid intensity. */
    operationalCo2eGrams: gramsOf(row.operationalCo2eMicrograms),
    /** The request's share of the hardware's manufacturing emissions. */
    embodiedCo2eGrams: gramsOf(row.embodiedCo2eMicrograms),
    /** Operational at the cluster's market-based factor; null when it has none. */
    marketCo2eGrams: row.marketCo2eMicrograms === null ? null : gramsOf(row.marketCo2eMicrograms),
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
  visible: UsageScope;
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
  // One row past the page says whether there is a next one.
  const rows = await pageUsageWithSettlement(db, {
    scope: filter.visible,
    model: filter.model,
    userId: filter.userId,
    from: filter.from === undefined ? undefined : new Date(filter.from),
    to: filter.to === undefined ? undefined : new Date(filter.to),
    after,
    limit: filter.limit + 1,
  });
  const page = rows.slice(0, filter.limit);
  const last = page.at(-1);
  const lists = await loadPriceListsByVersion(db, { versions: page.map((row) => row.priceListVersion) });
  return {
    items: page.map((row) => toView(row, lists)),
    nextCursor: rows.length > filter.limit && last !== undefined ? encodeCursor(last.createdAt, last.requestId) : null,
  };
}

/** One request's usage and settlement, if the caller may see it; undefined otherwise. */
export async function findUsage(
  db: Db,
  params: { visible: UsageScope; requestId: string },
): Promise<UsageView | undefined> {
  const row = await findUsageWithSettlement(db, { scope: params.visible, requestId: params.requestId });
  if (row === undefined) return undefined;
  return toView(row, await loadPriceListsByVersion(db, { versions: [row.priceListVersion] }));
}
