import { canonicalJson, ConflictError, NotFoundError, parseWith } from '@tokenwise/core';
import { writeAudit, type Db } from '@tokenwise/db';
import { clusters } from '@tokenwise/db/schema';
import { asc, eq, sql } from 'drizzle-orm';
import { z } from 'zod';
import { clustersMax, parseClusterConfigs } from './config-schema';
import type { CircuitState, ClusterConfig, ReplicaConfig, RouterSnapshot } from './types';

/** What a cluster's carbon accounting uses: gCO2e = energy x PUE x grid intensity of its region. */
export interface ClusterCarbon {
  region: string;
  gridIntensityGCo2ePerKwh: number;
  /** null: the carbon model's default PUE. */
  pue: number | null;
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

type Definition = Omit<ClusterConfig, 'name' | 'region' | 'gridIntensityGCo2ePerKwh' | 'pue'>;

const definitionOf = (config: ClusterConfig): Definition => ({
  models: config.models,
  replicas: config.replicas.map((replica) => ({ id: replica.id, url: replica.url })),
  maxConcurrencyPerReplica: config.maxConcurrencyPerReplica,
  priorityScheduling: config.priorityScheduling,
  queueDepthMax: config.queueDepthMax,
  queueWaitMsMax: config.queueWaitMsMax,
});

const carbonOf = (config: ClusterConfig): ClusterCarbon => ({
  region: config.region,
  gridIntensityGCo2ePerKwh: config.gridIntensityGCo2ePerKwh,
  pue: config.pue ?? null,
});

type Row = typeof clusters.$inferSelect;

function toRecord(row: Row): ClusterRecord {
  const definition = row.definition as Definition;
  return {
    name: row.name,
    source: row.source,
    ...definition,
    region: row.region,
    gridIntensityGCo2ePerKwh: row.gridIntensityGCo2ePerKwh,
    pue: row.pue,
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
    const current = {
      source: row.source,
      definition: row.definition,
      region: row.region,
      gridIntensityGCo2ePerKwh: row.gridIntensityGCo2ePerKwh,
      pue: row.pue,
    };
    const next = {
      source: 'config' as const,
      definition,
      ...(keepsCarbon
        ? { region: row.region, gridIntensityGCo2ePerKwh: row.gridIntensityGCo2ePerKwh, pue: row.pue }
        : carbon),
    };
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

/**
 * Adds a cluster through the API (validated like the startup configuration, audited): every
 * running gateway serves it within seconds. Its name, models and replica ids must not clash with
 * any registered cluster's. Its coefficients count as operator-set.
 */
export async function addCluster(db: Db, params: { cluster: unknown; actor: string }): Promise<ClusterRecord> {
  const [config] = parseClusterConfigs([params.cluster]);
  if (config === undefined) throw new Error('parseClusterConfigs returned no cluster');
  return db.transaction(async (tx) => {
    // Serialises additions with each other and with registrations, so two cannot claim one model.
    await tx.execute(sql`lock table ${clusters} in share row exclusive mode`);
    const existing = await tx.select({ name: clusters.name, definition: clusters.definition }).from(clusters);
    assertNoClash(config, existing);
    const definition = definitionOf(config);
    const carbon = carbonOf(config);
    const now = new Date();
    const [row] = await tx
      .insert(clusters)
      .values({
        name: config.name,
        source: 'api',
        definition,
        ...carbon,
        carbonSetBy: params.actor,
        carbonSetAt: now,
        registeredBy: params.actor,
        updatedBy: params.actor,
      })
      .returning();
    if (row === undefined) throw new Error(`insert of cluster ${config.name} returned no row`);
    await writeAudit(tx, {
      orgId: null,
      actor: params.actor,
      action: 'cluster.add',
      entityType: 'cluster',
      entityId: config.name,
      before: null,
      after: { definition, ...carbon },
    });
    return toRecord(row);
  });
}

function assertNoClash(config: ClusterConfig, existing: { name: string; definition: unknown }[]): void {
  for (const other of existing) {
    if (other.name === config.name)
      throw new ConflictError(
        `A cluster named "${config.name}" exists already; choose another name or change that one.`,
      );
    const definition = other.definition as Definition;
    const model = config.models.find((candidate) => definition.models.includes(candidate));
    if (model !== undefined)
      throw new ConflictError(
        `Model "${model}" is already served by cluster "${other.name}"; a model is served by one cluster only.`,
      );
    const replica = config.replicas.find((candidate) => definition.replicas.some((taken) => taken.id === candidate.id));
    if (replica !== undefined)
      throw new ConflictError(
        `Replica id "${replica.id}" is already used by cluster "${other.name}"; replica ids are unique across clusters.`,
      );
  }
}

/**
 * Removes a cluster added through the API (audited); gateways stop serving it within seconds. It
 * must be disabled first, so removal never surprises requests. Configured clusters are removed
 * from the configuration instead (until then, disable them).
 */
export async function removeCluster(db: Db, params: { name: string; actor: string }): Promise<ClusterRecord> {
  return db.transaction(async (tx) => {
    const row = await lockCluster(tx, params.name);
    if (row.source !== 'api')
      throw new ConflictError(
        `Cluster "${params.name}" comes from a gateway's startup configuration: remove it there (until then, disable it).`,
      );
    if (row.disabledAt === null)
      throw new ConflictError(
        `Cluster "${params.name}" is enabled: disable it first, let its requests finish, then remove it.`,
      );
    await tx.delete(clusters).where(eq(clusters.name, params.name));
    const record = toRecord(row);
    await writeAudit(tx, {
      orgId: null,
      actor: params.actor,
      action: 'cluster.remove',
      entityType: 'cluster',
      entityId: params.name,
      before: {
        definition: row.definition,
        region: row.region,
        gridIntensityGCo2ePerKwh: row.gridIntensityGCo2ePerKwh,
        pue: row.pue,
      },
      after: null,
    });
    return record;
  });
}

/** Replaces the definition's replica list of a cluster added through the API, audited; `change` returns the new list. */
async function changeReplicas(
  db: Db,
  params: {
    name: string;
    actor: string;
    action: string;
    change: (
      row: Row,
      definition: Definition,
      others: { name: string; definition: unknown }[],
    ) => { replicas: ReplicaConfig[]; disabledReplicas: string[] };
  },
): Promise<ClusterRecord> {
  return db.transaction(async (tx) => {
    await tx.execute(sql`lock table ${clusters} in share row exclusive mode`);
    const row = await lockCluster(tx, params.name);
    if (row.source !== 'api')
      throw new ConflictError(
        `Cluster "${params.name}" comes from a gateway's startup configuration: change its replicas there (disable one meanwhile).`,
      );
    const definition = row.definition as Definition;
    const others = (await tx.select({ name: clusters.name, definition: clusters.definition }).from(clusters)).filter(
      (other) => other.name !== params.name,
    );
    const next = params.change(row, definition, others);
    const [checked] = parseClusterConfigs([{ ...clusterConfigOf(toRecord(row)), replicas: next.replicas }]);
    if (checked === undefined) throw new Error('parseClusterConfigs returned no cluster');
    const nextDefinition = { ...definition, replicas: checked.replicas };
    const [updated] = await tx
      .update(clusters)
      .set({
        definition: nextDefinition,
        disabledReplicas: next.disabledReplicas,
        version: row.version + 1,
        updatedBy: params.actor,
        updatedAt: new Date(),
      })
      .where(eq(clusters.name, params.name))
      .returning();
    if (updated === undefined) throw new Error(`update of cluster ${params.name} returned no row`);
    await writeAudit(tx, {
      orgId: null,
      actor: params.actor,
      action: params.action,
      entityType: 'cluster',
      entityId: params.name,
      before: { replicas: definition.replicas },
      after: { replicas: checked.replicas },
    });
    return toRecord(updated);
  });
}

/** Adds a replica to a cluster added through the API (audited); gateways send it requests within seconds. Its id must be unique across clusters. */
export async function addReplica(
  db: Db,
  params: { name: string; replica: ReplicaConfig; actor: string },
): Promise<ClusterRecord> {
  return changeReplicas(db, {
    name: params.name,
    actor: params.actor,
    action: 'cluster.add_replica',
    change: (row, definition, others) => {
      const clash = others.find((other) =>
        (other.definition as Definition).replicas.some((replica) => replica.id === params.replica.id),
      );
      if (clash !== undefined)
        throw new ConflictError(
          `Replica id "${params.replica.id}" is already used by cluster "${clash.name}"; replica ids are unique across clusters.`,
        );
      return {
        replicas: [...definition.replicas, { id: params.replica.id, url: params.replica.url }],
        disabledReplicas: row.disabledReplicas,
      };
    },
  });
}

/** Removes a disabled replica from a cluster added through the API (audited); requests in flight on it finish. */
export async function removeReplica(
  db: Db,
  params: { name: string; replicaId: string; actor: string },
): Promise<ClusterRecord> {
  return changeReplicas(db, {
    name: params.name,
    actor: params.actor,
    action: 'cluster.remove_replica',
    change: (row, definition) => {
      if (!definition.replicas.some((replica) => replica.id === params.replicaId))
        throw new NotFoundError(`Cluster "${params.name}" has no replica "${params.replicaId}".`);
      if (!row.disabledReplicas.includes(params.replicaId))
        throw new ConflictError(
          `Replica "${params.replicaId}" is enabled: disable it first, let its requests finish, then remove it.`,
        );
      return {
        replicas: definition.replicas.filter((replica) => replica.id !== params.replicaId),
        disabledReplicas: row.disabledReplicas.filter((id) => id !== params.replicaId),
      };
    },
  });
}

/** Carbon coefficients an operator may set: the same bounds as the startup configuration. */
export const clusterCarbonSchema = z.strictObject({
  region: z
    .string()
    .trim()
    .min(1, 'must name the region, such as "eu-west-1"')
    .max(64, 'must be at most 64 characters')
    .optional(),
  gridIntensityGCo2ePerKwh: z
    .number({ error: 'must be a number of gCO2e per kWh' })
    .min(0, 'must be at least 0 gCO2e/kWh')
    .max(2000, 'must be at most 2000 gCO2e/kWh'),
  /** null: the carbon model's default PUE. */
  pue: z
    .number({ error: 'must be a power usage effectiveness such as 1.2, or null for the default' })
    .min(1, 'must be at least 1 (PUE)')
    .max(3, 'must be at most 3 (PUE)')
    .nullable(),
});

export type ClusterCarbonInput = z.input<typeof clusterCarbonSchema>;

/**
 * Sets a cluster's carbon coefficients (audited, with before and after); running gateways use them
 * for new requests within seconds, and a restart keeps them over the configured ones.
 */
export async function setClusterCarbon(
  db: Db,
  params: { name: string; carbon: ClusterCarbonInput; actor: string },
): Promise<ClusterRecord> {
  const carbon = parseWith(clusterCarbonSchema, params.carbon, 'carbon coefficients');
  return db.transaction(async (tx) => {
    const row = await lockCluster(tx, params.name);
    const before = { region: row.region, gridIntensityGCo2ePerKwh: row.gridIntensityGCo2ePerKwh, pue: row.pue };
    const after = {
      region: carbon.region ?? row.region,
      gridIntensityGCo2ePerKwh: carbon.gridIntensityGCo2ePerKwh,
      pue: carbon.pue,
    };
    const now = new Date();
    const [updated] = await tx
      .update(clusters)
      .set({
        ...after,
        carbonSetBy: params.actor,
        carbonSetAt: now,
        version: row.version + 1,
        updatedBy: params.actor,
        updatedAt: now,
      })
      .where(eq(clusters.name, params.name))
      .returning();
    if (updated === undefined) throw new Error(`update of cluster ${params.name} returned no row`);
    await writeAudit(tx, {
      orgId: null,
      actor: params.actor,
      action: 'cluster.set_carbon',
      entityType: 'cluster',
      entityId: params.name,
      before,
      after,
    });
    return toRecord(updated);
  });
}

/** Locks a cluster's row for a change by an operator; NOT_FOUND when no gateway registered it. */
async function lockCluster(tx: Db, name: string): Promise<Row> {
  const [row] = await tx.select().from(clusters).where(eq(clusters.name, name)).for('update').limit(1);
  if (row === undefined)
    throw new NotFoundError(`No cluster "${name}": clusters are registered when a gateway starts with them.`);
  return row;
}

async function changeAvailability(
  db: Db,
  params: {
    name: string;
    actor: string;
    action: string;
    change: (row: Row) => { disabledAt: Date | null; disabledReplicas: string[] };
  },
): Promise<ClusterRecord> {
  return db.transaction(async (tx) => {
    const row = await lockCluster(tx, params.name);
    const before = { disabled: row.disabledAt !== null, disabledReplicas: row.disabledReplicas };
    const next = params.change(row);
    const after = { disabled: next.disabledAt !== null, disabledReplicas: next.disabledReplicas };
    if (canonicalJson(before) === canonicalJson(after)) return toRecord(row);
    const [updated] = await tx
      .update(clusters)
      .set({ ...next, version: row.version + 1, updatedBy: params.actor, updatedAt: new Date() })
      .where(eq(clusters.name, params.name))
      .returning();
    if (updated === undefined) throw new Error(`update of cluster ${params.name} returned no row`);
    await writeAudit(tx, {
      orgId: null,
      actor: params.actor,
      action: params.action,
      entityType: 'cluster',
      entityId: params.name,
      before,
      after,
    });
    return toRecord(updated);
  });
}

/**
 * Disables a cluster (its models get no new request on any gateway within seconds; requests in
 * flight finish) or enables it again; audited. A no-op when it is already in that state.
 */
export async function setClusterDisabled(
  db: Db,
  params: { name: string; disabled: boolean; actor: string },
): Promise<ClusterRecord> {
  return changeAvailability(db, {
    name: params.name,
    actor: params.actor,
    action: params.disabled ? 'cluster.disable' : 'cluster.enable',
    change: (row) => ({
      disabledAt: params.disabled ? (row.disabledAt ?? new Date()) : null,
      disabledReplicas: row.disabledReplicas,
    }),
  });
}

/**
 * Takes one replica out of rotation (or back in), audited. The last enabled replica of a cluster
 * cannot be disabled: disable the cluster instead, so its models answer 404 rather than queue until timeout.
 */
export async function setReplicaDisabled(
  db: Db,
  params: { name: string; replicaId: string; disabled: boolean; actor: string },
): Promise<ClusterRecord> {
  return changeAvailability(db, {
    name: params.name,
    actor: params.actor,
    action: params.disabled ? 'cluster.disable_replica' : 'cluster.enable_replica',
    change: (row) => {
      const ids = (row.definition as Definition).replicas.map((replica) => replica.id);
      if (!ids.includes(params.replicaId))
        throw new NotFoundError(
          `Cluster "${params.name}" has no replica "${params.replicaId}"; its replicas are ${ids.join(', ')}.`,
        );
      const others = row.disabledReplicas.filter((id) => id !== params.replicaId);
      const disabledReplicas = params.disabled ? [...others, params.replicaId].sort() : others;
      if (ids.every((id) => disabledReplicas.includes(id))) {
        throw new ConflictError(
          `"${params.replicaId}" is the last enabled replica of cluster "${params.name}": disable the cluster instead, so its models are refused at once rather than queued.`,
        );
      }
      return { disabledAt: row.disabledAt, disabledReplicas };
    },
  });
}

/** Records the replicas' health as this gateway sees it, per cluster; the API shows it with its time. */
export async function reportClusterHealth(db: Db, snapshot: RouterSnapshot): Promise<void> {
  const byCluster = new Map<string, Record<string, ReplicaHealth>>();
  for (const replica of snapshot.replicas) {
    const health = byCluster.get(replica.cluster) ?? {};
    health[replica.id] = { healthy: replica.healthy, circuit: replica.circuit };
    byCluster.set(replica.cluster, health);
  }
  const now = new Date();
  for (const [name, health] of byCluster)
    await db.update(clusters).set({ health, healthReportedAt: now }).where(eq(clusters.name, name));
}
