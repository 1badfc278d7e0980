import { canonicalJson, NotFoundError } from '@tokenwise/core';
import { writeAudit, type Db } from '@tokenwise/db';
import { clusters } from '@tokenwise/db/schema';
import { asc, eq } from 'drizzle-orm';
import type { CircuitState, ClusterConfig, ClusterOwnership, ModelProfile, ReplicaConfig } from './cluster-config';
import { clustersMax, parseClusterConfigs } from './config-schema';

/** What a cluster's carbon accounting uses: gCO2e = energy x PUE x grid intensity of its region. */
export interface ClusterCarbon {
  region: string;
  /** Location-based: what caps count. */
  gridIntensityGCo2ePerKwh: number;
  /** null: the carbon model's default PUE. */
  pue: number | null;
  /** Where the location-based figure comes from; null: not recorded. */
  gridIntensitySource: string | null;
  /** Market-based factor (GHG Protocol Scope 2, next to the location-based one); null: none. */
  marketGridIntensityGCo2ePerKwh: number | null;
  /** `owned`: electricity Scope 2, embodied Scope 3 category 2; `rented`: Scope 3 category 1. */
  ownership: ClusterOwnership;
}

export interface ReplicaHealth {
  healthy: boolean;
  circuit: CircuitState;
}

/** One registered cluster as stored: its definition, carbon coefficients, state and last reported health. */
export interface ClusterRecord extends ClusterCarbon {
  name: string;
  /** `config`: a gateway's startup configuration owns the definition; `api`: an operator added it, and every gateway serves it until removed. */
  source: 'config' | 'api';
  models: string[];
  replicas: ReplicaConfig[];
  maxConcurrencyPerReplica: number;
  priorityScheduling: boolean;
  queueDepthMax: number;
  queueWaitMsMax: number;
  /** Carbon profile per served model, as configured; a model without one is metered as assumed. */
  modelProfiles?: Record<string, ModelProfile>;
  /** `config`: the coefficients come from the startup configuration; `api`: an operator set them, and a restart keeps them. */
  carbonSource: 'config' | 'api';
  carbonSetBy: string | null;
  carbonSetAt: Date | null;
  disabledAt: Date | null;
  /** Replica ids out of rotation (maintenance). */
  disabledReplicas: string[];
  version: number;
  registeredBy: string;
  updatedBy: string;
  createdAt: Date;
  updatedAt: Date;
  /** Per replica id, as a gateway last saw it; null before any gateway reported. */
  health: Record<string, ReplicaHealth> | null;
  healthReportedAt: Date | null;
}

export type Definition = Omit<
  ClusterConfig,
  | 'name'
  | 'region'
  | 'gridIntensityGCo2ePerKwh'
  | 'pue'
  | 'gridIntensitySource'
  | 'marketGridIntensityGCo2ePerKwh'
  | 'ownership'
>;

export const definitionOf = (config: ClusterConfig): Definition => ({
  models: config.models,
  replicas: config.replicas.map((replica) => ({ id: replica.id, url: replica.url })),
  maxConcurrencyPerReplica: config.maxConcurrencyPerReplica,
  priorityScheduling: config.priorityScheduling,
  queueDepthMax: config.queueDepthMax,
  queueWaitMsMax: config.queueWaitMsMax,
  // Only when declared, so a definition stored before profiles existed compares equal to the same config.
  ...(config.modelProfiles === undefined ? {} : { modelProfiles: config.modelProfiles }),
});

export const carbonOf = (config: ClusterConfig): ClusterCarbon => ({
  region: config.region,
  gridIntensityGCo2ePerKwh: config.gridIntensityGCo2ePerKwh,
  pue: config.pue ?? null,
  gridIntensitySource: config.gridIntensitySource ?? null,
  marketGridIntensityGCo2ePerKwh: config.marketGridIntensityGCo2ePerKwh ?? null,
  ownership: config.ownership ?? 'owned',
});

/** The carbon columns of a stored row. */
export const carbonOfRow = (row: Row): ClusterCarbon => ({
  region: row.region,
  gridIntensityGCo2ePerKwh: row.gridIntensityGCo2ePerKwh,
  pue: row.pue,
  gridIntensitySource: row.gridIntensitySource,
  marketGridIntensityGCo2ePerKwh: row.marketGridIntensityGCo2ePerKwh,
  ownership: row.ownership,
});

export type Row = typeof clusters.$inferSelect;

export function toRecord(row: Row): ClusterRecord {
  const definition = row.definition as Definition;
  return {
    name: row.name,
    source: row.source,
    ...definition,
    ...carbonOfRow(row),
    carbonSource: row.carbonSetBy === null ? 'config' : 'api',
    carbonSetBy: row.carbonSetBy,
    carbonSetAt: row.carbonSetAt,
    disabledAt: row.disabledAt,
    disabledReplicas: row.disabledReplicas,
    version: row.version,
    registeredBy: row.registeredBy,
    updatedBy: row.updatedBy,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
    health: (row.health as Record<string, ReplicaHealth> | null) ?? null,
    healthReportedAt: row.healthReportedAt,
  };
}

/** The config a gateway routes with: the stored definition and the stored (maybe operator-set) coefficients. */
export function clusterConfigOf(record: ClusterRecord): ClusterConfig {
  return {
    name: record.name,
    models: record.models,
    replicas: record.replicas,
    maxConcurrencyPerReplica: record.maxConcurrencyPerReplica,
    priorityScheduling: record.priorityScheduling,
    queueDepthMax: record.queueDepthMax,
    queueWaitMsMax: record.queueWaitMsMax,
    region: record.region,
    gridIntensityGCo2ePerKwh: record.gridIntensityGCo2ePerKwh,
    ...(record.pue === null ? {} : { pue: record.pue }),
    ...(record.gridIntensitySource === null ? {} : { gridIntensitySource: record.gridIntensitySource }),
    ...(record.marketGridIntensityGCo2ePerKwh === null
      ? {}
      : { marketGridIntensityGCo2ePerKwh: record.marketGridIntensityGCo2ePerKwh }),
    ownership: record.ownership,
    ...(record.modelProfiles === undefined ? {} : { modelProfiles: record.modelProfiles }),
  };
}

/** Every registered cluster by name (at most `clustersMax` per gateway, so a small multiple of it in all). */
export const clusterRecordsMax = clustersMax * 16;

/** Every registered cluster, by name. */
export async function listClusters(db: Db): Promise<ClusterRecord[]> {
  const rows = await db.select().from(clusters).orderBy(asc(clusters.name)).limit(clusterRecordsMax);
  return rows.map(toRecord);
}

/** One registered cluster, or undefined. */
export async function findCluster(db: Db, params: { name: string }): Promise<ClusterRecord | undefined> {
  const [row] = await db.select().from(clusters).where(eq(clusters.name, params.name)).limit(1);
  return row === undefined ? undefined : toRecord(row);
}

/**
 * Stores the clusters a gateway was started with (validated), so the API can list them and
 * operators can change them. An existing cluster takes the configured definition; its carbon
 * coefficients too, unless an operator set them through the API (those outlive restarts).
 * Idempotent: an unchanged cluster is not touched; every change is audited.
 */
export async function registerClusters(
  db: Db,
  params: { clusters: ClusterConfig[]; actor: string },
): Promise<ClusterRecord[]> {
  const configs = parseClusterConfigs(params.clusters);
  const records: ClusterRecord[] = [];
  for (const config of configs) records.push(await registerCluster(db, config, params.actor));
  return records;
}

async function registerCluster(db: Db, config: ClusterConfig, actor: string): Promise<ClusterRecord> {
  return db.transaction(async (tx) => {
    const definition = definitionOf(config);
    const carbon = carbonOf(config);
    const [inserted] = await tx
      .insert(clusters)
      .values({ name: config.name, definition, ...carbon, registeredBy: actor, updatedBy: actor })
      .onConflictDoNothing({ target: clusters.name })
      .returning();
    if (inserted !== undefined) {
      await writeAudit(tx, {
        orgId: null,
        actor,
        action: 'cluster.register',
        entityType: 'cluster',
        entityId: config.name,
        before: null,
        after: { definition, ...carbon },
      });
      return toRecord(inserted);
    }
    const [row] = await tx.select().from(clusters).where(eq(clusters.name, config.name)).for('update').limit(1);
    if (row === undefined) throw new Error(`cluster ${config.name} vanished during registration`);
    const keepsCarbon = row.carbonSetBy !== null;
    // A configured cluster of the same name as one added through the API takes it over: the configuration owns it from now on.
    const current = { source: row.source, definition: row.definition, ...carbonOfRow(row) };
    const next = { source: 'config' as const, definition, ...(keepsCarbon ? carbonOfRow(row) : carbon) };
    if (canonicalJson(current) === canonicalJson(next)) return toRecord(row);
    const [updated] = await tx
      .update(clusters)
      .set({ ...next, version: row.version + 1, updatedBy: actor, updatedAt: new Date() })
      .where(eq(clusters.name, config.name))
      .returning();
    if (updated === undefined) throw new Error(`update of cluster ${config.name} returned no row`);
    await writeAudit(tx, {
      orgId: null,
      actor,
      action: 'cluster.register',
      entityType: 'cluster',
      entityId: config.name,
      before: current,
      after: next,
    });
    return toRecord(updated);
  });
}

/** The cluster's row, locked for the rest of the transaction; NotFoundError names the registered ones. */
export async function lockCluster(tx: Db, name: string): Promise<Row> {
  const [row] = await tx.select().from(clusters).where(eq(clusters.name, name)).for('update').limit(1);
  if (row === undefined)
    throw new NotFoundError(`No cluster "${name}": clusters are registered when a gateway starts with them.`);
  return row;
}
