import type { Db } from '@tokenwise/db';
import { listClusters, reportClusterHealth } from './cluster-store';
import type { CheckedRouter } from './router';

/** How often a gateway reads operator changes to its clusters and reports its replicas' health. */
export const clusterSyncIntervalMsDefault = 2_000;

export interface ClusterSync {
  /** Reads the stored clusters once, applies changed carbon coefficients and availability, reports health. */
  syncNow(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Keeps a running gateway's clusters in step with the database off the hot path: every
 * `intervalMs`, one query for the clusters and one health update per cluster. A failed round is
 * logged and retried on the next tick; the router keeps its last coefficients meanwhile.
 */
export function startClusterSync(options: { db: Db; router: CheckedRouter; intervalMs?: number; log: (line: string) => void }): ClusterSync {
  const appliedVersion = new Map<string, number>();
  const served = new Set(options.router.clusterNames());
  let running: Promise<void> | undefined;
  const round = async () => {
    const records = await listClusters(options.db);
    for (const record of records) {
      if (!served.has(record.name) || appliedVersion.get(record.name) === record.version) continue;
      options.router.setCarbon(record.name, { region: record.region, gridIntensityGCo2ePerKwh: record.gridIntensityGCo2ePerKwh, pue: record.pue });
      options.router.setAvailability(record.name, { disabled: record.disabledAt !== null, disabledReplicas: record.disabledReplicas });
      appliedVersion.set(record.name, record.version);
    }
    await reportClusterHealth(options.db, options.router.snapshot());
  };
  const syncNow = () => {
    running ??= round().finally(() => (running = undefined));
    return running;
  };
  const timer = setInterval(() => {
    syncNow().catch((error: unknown) => options.log(`cluster sync failed (retrying in ${options.intervalMs ?? clusterSyncIntervalMsDefault} ms): ${String(error)}`));
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
