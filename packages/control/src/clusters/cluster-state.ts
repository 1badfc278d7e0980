import { canonicalJson, ConflictError, NotFoundError, parseWith } from '@tokenwise/core';
import { writeAudit, type Db } from '@tokenwise/db';
import { clusters } from '@tokenwise/db/schema';
import { eq } from 'drizzle-orm';
import { z } from 'zod';
import type { ReplicaHealthReport } from './cluster-config';
import { gridIntensitySourceSchema, marketGridIntensitySchema, ownershipSchema } from './config-schema';
import {
  carbonOfRow,
  lockCluster,
  toRecord,
  type ClusterRecord,
  type Definition,
  type ReplicaHealth,
  type Row,
} from './cluster-records';

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
  /** Left out: unchanged; null: cleared. */
  gridIntensitySource: gridIntensitySourceSchema.nullable().optional(),
  /** Left out: unchanged; null: no market-based factor. */
  marketGridIntensityGCo2ePerKwh: marketGridIntensitySchema.nullable().optional(),
  /** Left out: unchanged. */
  ownership: ownershipSchema.optional(),
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
    const before = carbonOfRow(row);
    const after = {
      region: carbon.region ?? row.region,
      gridIntensityGCo2ePerKwh: carbon.gridIntensityGCo2ePerKwh,
      pue: carbon.pue,
      gridIntensitySource:
        carbon.gridIntensitySource === undefined ? row.gridIntensitySource : carbon.gridIntensitySource,
      marketGridIntensityGCo2ePerKwh:
        carbon.marketGridIntensityGCo2ePerKwh === undefined
          ? row.marketGridIntensityGCo2ePerKwh
          : carbon.marketGridIntensityGCo2ePerKwh,
      ownership: carbon.ownership ?? row.ownership,
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
export async function reportClusterHealth(db: Db, snapshot: ReplicaHealthReport): Promise<void> {
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
