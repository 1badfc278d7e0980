import { ConflictError, NotFoundError } from '@tokenwise/core';
import { writeAudit, type Db } from '@tokenwise/db';
import { clusters } from '@tokenwise/db/schema';
import { eq, sql } from 'drizzle-orm';
import type { ClusterConfig, ReplicaConfig } from './cluster-config';
import {
  clusterConfigOf,
  lockCluster,
  toRecord,
  carbonOf,
  carbonOfRow,
  definitionOf,
  type ClusterRecord,
  type Definition,
  type Row,
} from './cluster-records';
import { parseClusterConfigs } from './config-schema';

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
    // A model may be served by several clusters: the router picks one per request (cleanest or fastest).
    const definition = other.definition as Definition;
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
      before: { definition: row.definition, ...carbonOfRow(row) },
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
