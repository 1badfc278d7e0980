import { type PriorityTier } from '@tokenwise/core';
import { createRouter, type CheckedRouter } from './router';
import { type ClusterConfig, type Lease, type RouterOptions } from './types';

/** A one-cluster config with one replica per id; loopback URLs that tests never call unless they say so. */
export function clusterConfig(overrides: Partial<ClusterConfig> = {}, replicaIds: string[] = ['r1']): ClusterConfig {
  return {
    name: 'c1',
    models: ['m1'],
    replicas: replicaIds.map((id, index) => ({ id, url: `http://127.0.0.1:${9000 + index}` })),
    maxConcurrencyPerReplica: 1,
    priorityScheduling: true,
    queueDepthMax: 100,
    queueWaitMsMax: 30_000,
    region: 'eu-west-1',
    gridIntensityGCo2ePerKwh: 250,
    ...overrides,
  };
}

/** A health endpoint whose answer the test switches. */
export function switchableHealth(initial = 200): { fetch: typeof fetch; setStatus(status: number): void } {
  let status = initial;
  const fake = (() => Promise.resolve(new Response(null, { status }))) as typeof fetch;
  return { fetch: fake, setStatus: (next) => (status = next) };
}

/** A clock the test moves by hand, in milliseconds. */
export function manualClock(startMs = 1_700_000_000_000): { now: () => number; advance(ms: number): void } {
  let nowMs = startMs;
  return { now: () => nowMs, advance: (ms) => (nowMs += ms) };
}

/** A router with healthy replicas and no periodic checks during the test. */
export function testRouter(clusters: ClusterConfig[], options: Partial<RouterOptions> = {}): CheckedRouter {
  return createRouter({ clusters, healthCheckIntervalMs: 3_600_000, fetch: switchableHealth().fetch, ...options });
}

/** Queues a request that, once served, records its label and the replica, then releases at once. */
export function queueAndRelease(
  router: CheckedRouter,
  served: string[],
  label: string,
  tier: PriorityTier,
  model = 'm1',
): Promise<Lease> {
  return router.acquire(model, tier).then((lease) => {
    served.push(label);
    lease.release({ ok: true });
    return lease;
  });
}
