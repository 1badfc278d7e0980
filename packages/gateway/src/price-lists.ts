import { parsePriceList, ValidationError, type PriceList } from '@tokenwise/core';
import type { Db } from '@tokenwise/db';
import { priceLists } from '@tokenwise/db/schema';
import { desc } from 'drizzle-orm';

export interface CurrentPriceList {
  version: number;
  list: PriceList;
}

/** The newest price list, cached and refreshed in the background so the hot path never waits on it. */
export interface PriceListSource {
  current(): Promise<CurrentPriceList>;
  close(): void;
}

export const priceListRefreshMs = 5_000;

export async function loadNewestPriceList(db: Db): Promise<CurrentPriceList | undefined> {
  const [row] = await db.select({ version: priceLists.version, body: priceLists.body }).from(priceLists).orderBy(desc(priceLists.version)).limit(1);
  return row === undefined ? undefined : { version: row.version, list: parsePriceList(row.body) };
}

/** Stores a new price list version (validated first); the gateway picks it up within seconds. */
export async function publishPriceList(db: Db, params: { body: unknown; actor: string }): Promise<CurrentPriceList> {
  const list = parsePriceList(params.body);
  const newest = await loadNewestPriceList(db);
  const version = (newest?.version ?? 0) + 1;
  await db.insert(priceLists).values({ version, body: params.body, createdBy: params.actor });
  return { version, list };
}

export function createPriceListSource(db: Db, refreshMs = priceListRefreshMs): PriceListSource {
  let cached: CurrentPriceList | undefined;
  let loadedAt = 0;
  let loading: Promise<CurrentPriceList> | undefined;
  const load = async (): Promise<CurrentPriceList> => {
    const newest = await loadNewestPriceList(db);
    if (newest === undefined) throw new ValidationError('No price list is published yet: an admin must publish one (tokenwise prices publish --file prices.json).');
    cached = newest;
    loadedAt = Date.now();
    return newest;
  };
  return {
    async current() {
      if (cached !== undefined && Date.now() - loadedAt < refreshMs) return cached;
      if (cached !== undefined) {
        // Serve the cached list while one refresh runs; a failed refresh keeps the old list.
        loading ??= load().finally(() => (loading = undefined));
        loading.catch(() => {});
        return cached;
      }
      loading ??= load().finally(() => (loading = undefined));
      return loading;
    },
    close() {},
  };
}
