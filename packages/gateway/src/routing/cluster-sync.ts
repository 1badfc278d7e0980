import type { Db } from '@tokenwise/db';
import { clusterConfigOf, listClusters, reportClusterHealth, type ClusterRecord } from '@tokenwise/control';
import type { CheckedRouter } from './router';

/** How often a gateway reads operator changes to its clusters and reports its replicas' health. */
export const clusterSyncIntervalMsDefault = 2_000;

/** Unchanged replica health is written again after this long, so readers can tell a live report from a stale one. */
export const healthReportIntervalMs = 30_000;

export interface ClusterSync {
  /** Reads the stored clusters once: serves clusters added through the API, drops removed ones, applies coefficients and availability, reports health. */
  syncNow(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Keeps a running gateway's clusters in step with the database off the hot path: every
 * `intervalMs`, one query for the clusters, and a health update per cluster when health changed
 * (or every `healthReportIntervalMs`). A failed round is logged and retried on the next tick; the
 * router keeps its last state meanwhile.
 */
export function startClusterSync(options: {
  db: Db;
  router: CheckedRouter;
  intervalMs?: number;
  log: (line: string) => void;
}): ClusterSync {
  const appliedVersion = new Map<string, number>();
  const configured = new Set(options.router.clusterNames());
  /** Clusters added through the API that this gateway serves now. */
  const added = new Set<string>();
  /** Version of an added cluster this gateway could not serve (clashing with its configuration), so the refusal is logged once. */
  const refusedVersion = new Map<string, number>();
  let running: Promise<void> | undefined;
  let lastHealth = '';
  let lastReportAt = 0;
  const addOrSkip = (record: ClusterRecord): boolean => {
    if (configured.has(record.name) || added.has(record.name)) return true;
    if (record.source !== 'api' || refusedVersion.get(record.name) === record.version) return false;
    try {
      options.router.addCluster(clusterConfigOf(record));
      added.add(record.name);
      return true;
    } catch (error) {
      refusedVersion.set(record.name, record.version);
      options.log(`cluster ${record.name} (added through the API) is not served here: ${(error as Error).message}`);
      return false;
    }
  };
  /** Replicas of clusters added through the API follow the database; configured clusters' follow the configuration. */
  const setReplicasOrLog = (record: ClusterRecord): void => {
    try {
      options.router.setReplicas(record.name, record.replicas);
    } catch (error) {
      options.log(`cluster ${record.name}: its new replicas are not served here: ${(error as Error).message}`);
    }
  };
  const round = async () => {
    const records = await listClusters(options.db);
    const stored = new Set(records.map((record) => record.name));
    for (const name of added) {
      if (stored.has(name)) continue;
      options.router.removeCluster(name);
      added.delete(name);
      appliedVersion.delete(name);
    }
    for (const record of records) {
      if (!addOrSkip(record) || appliedVersion.get(record.name) === record.version) continue;
      options.router.setCarbon(record.name, {
        region: record.region,
        gridIntensityGCo2ePerKwh: record.gridIntensityGCo2ePerKwh,
        pue: record.pue,
        gridIntensitySource: record.gridIntensitySource,
        marketGridIntensityGCo2ePerKwh: record.marketGridIntensityGCo2ePerKwh,
        ownership: record.ownership,
      });
      if (added.has(record.name)) setReplicasOrLog(record);
      options.router.setAvailability(record.name, {
        disabled: record.disabledAt !== null,
        disabledReplicas: record.disabledReplicas,
      });
      appliedVersion.set(record.name, record.version);
    }
    // Health is written when it changed, else at most every healthReportIntervalMs: N gateways must not write every tick.
    const snapshot = options.router.snapshot();
    const health = JSON.stringify(snapshot.replicas.map(({ id, healthy, circuit }) => [id, healthy, circuit]));
    if (health === lastHealth && Date.now() - lastReportAt < healthReportIntervalMs) return;
    await reportClusterHealth(options.db, snapshot);
    lastHealth = health;
    lastReportAt = Date.now();
  };
  const syncNow = () => {
    running ??= round().finally(() => (running = undefined));
    return running;
  };
  const timer = setInterval(() => {
    syncNow().catch((error: unknown) =>
      options.log(
        `cluster sync failed (retrying in ${options.intervalMs ?? clusterSyncIntervalMsDefault} ms): ${String(error)}`,
      ),
    );
  }, options.intervalMs ?? clusterSyncIntervalMsDefault);
  timer.unref();
  return {
    syncNow,
    async stop() {
      clearInterval(timer);
      await running?.catch(() => {});
    },
  };
}
