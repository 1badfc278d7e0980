import { invariant, parsePriceList, ValidationError, type PriceList } from '@tokenwise/core';
import { writeAudit, type Db } from '@tokenwise/db';
import { priceLists } from '@tokenwise/db/schema';
import { and, desc, eq, inArray, isNull, lt, or, sql } from 'drizzle-orm';

export interface CurrentPriceList {
  /** Unique across orgs: the version a usage row names identifies exactly this list. */
  version: number;
  /** The org that pays by it; null for the platform default. */
  orgId: string | null;
  list: PriceList;
}

/** The price list of each org, cached and refreshed in the background so the hot path never waits on it. */
export interface PriceListSource {
  /** The newest list of `orgId`, else the newest platform default. */
  current(orgId: string): Promise<CurrentPriceList>;
  close(): void;
}

export const priceListRefreshMs = 5_000;
/** Orgs with their own price list that one gateway caches; beyond it, publishing is refused. */
export const pricedOrgsMax = 10_000;
/** Rows of one `listPriceLists` page. */
export const priceListPageMax = 100;

const columns = { version: priceLists.version, orgId: priceLists.orgId, body: priceLists.body };
const toCurrent = (row: { version: number; orgId: string | null; body: unknown }): CurrentPriceList => ({
  version: row.version,
  orgId: row.orgId,
  list: parsePriceList(row.body),
});

/** The newest platform default list, or, with `orgId`, that org's own newest list; undefined when there is none. */
export async function loadNewestPriceList(
  db: Db,
  params: { orgId?: string } = {},
): Promise<CurrentPriceList | undefined> {
  const owner = params.orgId === undefined ? isNull(priceLists.orgId) : eq(priceLists.orgId, params.orgId);
  const [row] = await db.select(columns).from(priceLists).where(owner).orderBy(desc(priceLists.version)).limit(1);
  return row === undefined ? undefined : toCurrent(row);
}

/** The list that prices the org's requests now: its own newest, else the newest default. */
export async function loadEffectivePriceList(db: Db, params: { orgId: string }): Promise<CurrentPriceList | undefined> {
  return (await loadNewestPriceList(db, params)) ?? (await loadNewestPriceList(db));
}

/** Lists by version (the version a usage row names), for at most `priceListPageMax` versions; unknown versions are left out. */
export async function loadPriceListsByVersion(
  db: Db,
  params: { versions: readonly number[] },
): Promise<Map<number, CurrentPriceList>> {
  const versions = [...new Set(params.versions)];
  if (versions.length > priceListPageMax)
    throw new ValidationError(`At most ${priceListPageMax} price list versions at once, got ${versions.length}.`);
  if (versions.length === 0) return new Map();
  const rows = await db.select(columns).from(priceLists).where(inArray(priceLists.version, versions));
  return new Map(rows.map((row) => [row.version, toCurrent(row)]));
}

export interface PriceListEntry {
  version: number;
  orgId: string | null;
  label: string;
  models: string[];
  createdBy: string;
  createdAt: Date;
}

/** The org's lists and the platform defaults, newest first: every list that priced or may price the org's requests. */
export async function listPriceLists(
  db: Db,
  params: { orgId: string; beforeVersion?: number; limit: number },
): Promise<PriceListEntry[]> {
  invariant(params.limit >= 1 && params.limit <= priceListPageMax, `limit must be 1..${priceListPageMax}`);
  const rows = await db
    .select({ ...columns, createdBy: priceLists.createdBy, createdAt: priceLists.createdAt })
    .from(priceLists)
    .where(
      and(
        or(eq(priceLists.orgId, params.orgId), isNull(priceLists.orgId)),
        params.beforeVersion === undefined ? undefined : lt(priceLists.version, params.beforeVersion),
      ),
    )
    .orderBy(desc(priceLists.version))
    .limit(params.limit);
  return rows.map((row) => {
    const list = parsePriceList(row.body);
    return {
      version: row.version,
      orgId: row.orgId,
      label: list.version,
      models: Object.keys(list.models),
      createdBy: row.createdBy,
      createdAt: row.createdAt,
    };
  });
}

/**
 * Stores a new price list version (validated first) for `orgId`, or the platform default when it
 * is null or absent, with its audit row; gateways pick it up within seconds. Callers decide who may
 * publish the default (platform operators only). Publishers are serialised by a table lock
 * (readers are not blocked), so two publishes never race for one version.
 */
export async function publishPriceList(
  db: Db,
  params: { body: unknown; actor: string; orgId?: string | null },
): Promise<CurrentPriceList> {
  const list = parsePriceList(params.body);
  const orgId = params.orgId ?? null;
  return db.transaction(async (tx) => {
    await tx.execute(sql`lock table ${priceLists} in share row exclusive mode`);
    if (orgId !== null && (await loadNewestPriceList(tx, { orgId })) === undefined) {
      const [count] = await tx.select({ orgs: sql<number>`count(distinct ${priceLists.orgId})::int` }).from(priceLists);
      if ((count?.orgs ?? 0) >= pricedOrgsMax)
        throw new ValidationError(
          `${pricedOrgsMax} orgs already have their own price list, the most a gateway caches; let this org use the platform default.`,
        );
    }
    const [newest] = await tx.select({ version: sql<number | null>`max(${priceLists.version})` }).from(priceLists);
    const version = Number(newest?.version ?? 0) + 1;
    await tx.insert(priceLists).values({ version, orgId, body: params.body, createdBy: params.actor });
    const after = {
      version,
      scope: orgId === null ? 'default' : 'org',
      label: list.version,
      models: Object.keys(list.models),
    };
    await writeAudit(tx, {
      orgId,
      actor: params.actor,
      action: 'price_list.publish',
      entityType: 'price_list',
      entityId: String(version),
      before: null,
      after,
    });
    return { version, orgId, list };
  });
}

interface PriceListSnapshot {
  defaultList: CurrentPriceList | undefined;
  byOrg: Map<string, CurrentPriceList>;
}

/** The newest list of every org and the newest default, in one query; lists already parsed are reused by version. */
async function loadSnapshot(db: Db, previous: PriceListSnapshot | undefined): Promise<PriceListSnapshot> {
  const rows = await db
    .selectDistinctOn([priceLists.orgId], columns)
    .from(priceLists)
    .orderBy(priceLists.orgId, desc(priceLists.version))
    .limit(pricedOrgsMax + 1);
  const known = new Map<number, CurrentPriceList>();
  if (previous !== undefined) {
    if (previous.defaultList !== undefined) known.set(previous.defaultList.version, previous.defaultList);
    for (const entry of previous.byOrg.values()) known.set(entry.version, entry);
  }
  const snapshot: PriceListSnapshot = { defaultList: undefined, byOrg: new Map() };
  for (const row of rows) {
    const current = known.get(row.version) ?? toCurrent(row);
    if (row.orgId === null) snapshot.defaultList = current;
    else snapshot.byOrg.set(row.orgId, current);
  }
  return snapshot;
}

/** Per-org price lists for the hot path: every org's newest list in memory, reloaded in the background every `refreshMs`. */
export function createPriceListSource(db: Db, refreshMs = priceListRefreshMs): PriceListSource {
  let cached: PriceListSnapshot | undefined;
  let loadedAt = 0;
  let loading: Promise<PriceListSnapshot> | undefined;
  const load = async (): Promise<PriceListSnapshot> => {
    const snapshot = await loadSnapshot(db, cached);
    cached = snapshot;
    loadedAt = Date.now();
    return snapshot;
  };
  const pick = (snapshot: PriceListSnapshot, orgId: string): CurrentPriceList => {
    const list = snapshot.byOrg.get(orgId) ?? snapshot.defaultList;
    if (list === undefined)
      throw new ValidationError(
        'No price list is published yet: an operator must publish one (tokenwise prices publish --file prices.json).',
      );
    return list;
  };
  return {
    async current(orgId) {
      if (cached !== undefined && Date.now() - loadedAt < refreshMs) return pick(cached, orgId);
      if (cached !== undefined) {
        // Serve the cached lists while one refresh runs; a failed refresh keeps the old ones.
        loading ??= load().finally(() => (loading = undefined));
        loading.catch(() => {});
        return pick(cached, orgId);
      }
      loading ??= load().finally(() => (loading = undefined));
      return pick(await loading, orgId);
    },
    close() {},
  };
}
