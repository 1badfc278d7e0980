import { type PriorityTier, invariant } from '@tokenwise/core';
import { circuitCooldownMsDefault, circuitFailuresToOpenDefault } from './circuit-breaker';
import { carbonPerItKwh, chooseRoute } from './cluster-choice';
import { ClusterRoute } from './cluster-route';
import { parseClusterConfigs } from '@tokenwise/control';
import { NoHealthyReplicaError, UnknownModelError } from './errors';
import {
  type HealthTarget,
  healthCheckIntervalMsDefault,
  healthCheckTimeoutMsDefault,
  startHealthChecks,
} from './health-checker';
import { vllmPriorityOf } from './priority';
import { type RouteLease } from './route-lease';
import { type ReplicaState } from './replica-state';
import {
  type AcquireOptions,
  type ClusterConfig,
  type Lease,
  type ReplicaConfig,
  type Router,
  type RouterOptions,
  type RouterSnapshot,
} from './types';

/** A cluster's carbon fields as stored (null: not set); the optional ones are left as they are when absent. */
export interface ClusterCarbonSetting {
  region: string;
  gridIntensityGCo2ePerKwh: number;
  pue: number | null;
  gridIntensitySource?: string | null;
  marketGridIntensityGCo2ePerKwh?: number | null;
  ownership?: 'owned' | 'rented';
}

/** A router that also lets callers (tests, startup) run a health-check round and wait for it. */
export interface CheckedRouter extends Router {
  /** Runs one health-check round now and resolves when every replica answered or timed out. */
  checkHealth(): Promise<void>;
  /** Names of the clusters it routes to. */
  clusterNames(): string[];
  /** New carbon coefficients for a cluster's new requests; queues, slots and health stay as they are. False for an unknown cluster. */
  setCarbon(name: string, carbon: ClusterCarbonSetting): boolean;
  /**
   * Operator state of a cluster: a disabled cluster's models are not offered to new requests
   * (requests already queued or in flight finish); disabled replicas get no new request. Health,
   * circuits and queues are kept. False for an unknown cluster.
   */
  setAvailability(name: string, availability: { disabled: boolean; disabledReplicas: readonly string[] }): boolean;
  /** Starts serving one more cluster (validated against those served: unique name and replica ids; it may serve models others serve); the others are untouched. */
  addCluster(config: ClusterConfig): void;
  /** Replaces a cluster's replicas; kept replicas keep health, circuit and requests in flight. False for an unknown cluster. */
  setReplicas(name: string, replicas: readonly ReplicaConfig[]): boolean;
  /** Stops serving a cluster: its waiters are refused (they pay nothing), leases out finish; the others are untouched. False when unknown. */
  removeCluster(name: string): boolean;
}

/**
 * Routes requests to the replicas of validated clusters; starts health checks at once (call close() to stop them).
 * Replicas count as healthy until a check fails, so a gateway serves from its first second; a replica that is
 * down fails its first request at worst, which the caller's failover (`exclude`) absorbs.
 */
export function createRouter(options: RouterOptions): CheckedRouter {
  const clusters = parseClusterConfigs(options.clusters);
  const clock = options.clock ?? Date.now;
  const healthCheckIntervalMs = options.healthCheckIntervalMs ?? healthCheckIntervalMsDefault;
  const routeOptions = {
    clock,
    circuitFailuresToOpen: options.circuitFailuresToOpen ?? circuitFailuresToOpenDefault,
    circuitCooldownMs: options.circuitCooldownMs ?? circuitCooldownMsDefault,
  };
  const routes: ClusterRoute[] = [];
  /** Per model, the clusters serving it in configuration order (the order breaks ties). */
  const routesByModel = new Map<string, ClusterRoute[]>();
  let servedModels: string[] = [];
  // The health checker reads this array every round, so routes added or removed later are checked or dropped.
  const targets: HealthTarget[] = [];
  const targetsOf = new Map<ClusterRoute, (HealthTarget & { state: ReplicaState })[]>();
  const attach = (config: ClusterConfig): void => {
    const route = new ClusterRoute(config, routeOptions);
    routes.push(route);
    for (const model of config.models) routesByModel.set(model, [...(routesByModel.get(model) ?? []), route]);
    servedModels = [...routesByModel.keys()];
    targetsOf.set(route, []);
    watch(route, route.replicas);
  };
  const watch = (route: ClusterRoute, states: ReplicaState[]): void => {
    const own = states.map((state) => ({
      url: state.replica.url,
      state,
      onResult: (healthy: boolean) => route.setHealthy(state, healthy),
    }));
    targetsOf.get(route)?.push(...own);
    targets.push(...own);
  };
  const unwatch = (route: ClusterRoute, states: ReadonlySet<ReplicaState>): void => {
    const own = targetsOf.get(route) ?? [];
    for (const target of own.filter((candidate) => states.has(candidate.state))) {
      own.splice(own.indexOf(target), 1);
      targets.splice(targets.indexOf(target), 1);
    }
  };
  const detach = (route: ClusterRoute): void => {
    route.close(
      `Cluster "${route.config.name}" was removed while this request waited; you were not charged. Retry: another cluster may serve the model.`,
    );
    routes.splice(routes.indexOf(route), 1);
    for (const model of route.config.models) {
      const others = (routesByModel.get(model) ?? []).filter((other) => other !== route);
      if (others.length === 0) routesByModel.delete(model);
      else routesByModel.set(model, others);
    }
    servedModels = [...routesByModel.keys()];
    for (const target of targetsOf.get(route) ?? []) targets.splice(targets.indexOf(target), 1);
    targetsOf.delete(route);
  };
  for (const config of clusters) attach(config);
  const health = startHealthChecks({
    targets,
    intervalMs: healthCheckIntervalMs,
    timeoutMs: options.healthCheckTimeoutMs ?? Math.min(healthCheckTimeoutMsDefault, healthCheckIntervalMs),
    fetch: options.fetch ?? fetch,
    // Also wakes waiters whose replica's circuit cooldown ended on an injected clock.
    onRound: () => routes.forEach((route) => route.dispatch()),
  });
  let closing: Promise<void> | undefined;

  const disabledClusters = new Set<string>();
  const enabledRoutes = (model: string): ClusterRoute[] =>
    (routesByModel.get(model) ?? []).filter((route) => !disabledClusters.has(route.config.name));

  /**
   * The cluster this request goes to or waits at (see chooseRoute): one of `within` (when given), and
   * only an enabled one unless all of those are disabled.
   */
  const routeFor = (
    model: string,
    serving: ClusterRoute[],
    tier: PriorityTier,
    options: AcquireOptions | undefined,
  ) => {
    const within = options?.within;
    const allowed = within === undefined ? serving : serving.filter((route) => within.has(route.config.name));
    if (allowed.length === 0)
      throw new NoHealthyReplicaError(
        `No cluster this request was admitted for serves model "${model}" any more; you were not charged. Retry it.`,
        { model },
      );
    const enabled = allowed.filter((route) => !disabledClusters.has(route.config.name));
    // A request admitted just before its model's last cluster was disabled still finishes there.
    const candidates = enabled.length > 0 ? enabled : allowed;
    if (candidates.length === 1) return candidates[0] as ClusterRoute;
    const tierIndex = vllmPriorityOf(tier);
    invariant(tierIndex !== undefined, `unknown priority tier "${String(tier)}"`);
    const nowMs = clock();
    const chosen = chooseRoute(
      candidates.map((route) => ({
        route,
        config: route.config,
        standing: route.standing(model, tierIndex, options?.exclude, nowMs),
      })),
      options?.preferClean === true,
    );
    invariant(chosen !== undefined, `model "${model}" has a cluster to route to`);
    return chosen;
  };

  const acquire = async (model: string, tier: PriorityTier, acquireOptions?: AcquireOptions): Promise<Lease> => {
    const serving = routesByModel.get(model);
    if (serving === undefined) throw new UnknownModelError(model, servedModels);
    const route = routeFor(model, serving, tier, acquireOptions);
    const signal = acquireOptions?.signal;
    const lease = (await route.acquire(model, tier, signal, acquireOptions?.exclude)) as RouteLease;
    if (signal?.aborted) {
      // Aborted between the grant and this continuation: pass the slot on rather than lose it.
      lease.returnUnused();
      throw signal.reason;
    }
    return lease;
  };

  return {
    clusterFor: (model: string): ClusterConfig | undefined => {
      // The dirtiest: a caller that sizes a carbon bound from one cluster covers every one the request may reach.
      let dirtiest: ClusterConfig | undefined;
      for (const { config } of enabledRoutes(model))
        if (dirtiest === undefined || carbonPerItKwh(config) > carbonPerItKwh(dirtiest)) dirtiest = config;
      return dirtiest;
    },
    clustersFor: (model: string): ClusterConfig[] => enabledRoutes(model).map((route) => route.config),
    models: () => servedModels.filter((model) => enabledRoutes(model).length > 0),
    acquire,
    queueDepth: (model: string) =>
      (routesByModel.get(model) ?? []).reduce((depth, route) => depth + route.queueDepth(model), 0),
    snapshot: (): RouterSnapshot => ({
      replicas: routes.flatMap((route) => route.snapshotReplicas()),
      models: servedModels.flatMap((model) =>
        (routesByModel.get(model) ?? []).map((route) => ({
          model,
          cluster: route.config.name,
          queueDepth: route.queueDepth(model),
        })),
      ),
    }),
    checkHealth: () => health.checkNow(),
    clusterNames: () => routes.map((route) => route.config.name),
    setCarbon: (name, carbon) => {
      const route = routes.find((candidate) => candidate.config.name === name);
      if (route === undefined) return false;
      const next: ClusterConfig = { ...route.config, region: carbon.region };
      next.gridIntensityGCo2ePerKwh = carbon.gridIntensityGCo2ePerKwh;
      for (const field of ['pue', 'gridIntensitySource', 'marketGridIntensityGCo2ePerKwh', 'ownership'] as const) {
        const value = carbon[field];
        if (value === null) delete next[field];
        else if (value !== undefined) Object.assign(next, { [field]: value });
      }
      // Leases already granted keep the config they were granted with; admissions read this one.
      route.config = Object.freeze(next);
      return true;
    },
    addCluster: (config) => {
      if (closing !== undefined) return;
      // Validated together with the clusters served now: unique names and replica ids.
      const all = parseClusterConfigs([...routes.map((route) => route.config), config]);
      const added = all.at(-1);
      invariant(added !== undefined, 'the validated clusters include the added one');
      attach(added);
    },
    setReplicas: (name, replicas) => {
      const route = routes.find((candidate) => candidate.config.name === name);
      if (route === undefined) return false;
      // Validated with every cluster served: unique replica ids, http(s) URLs, 1..64 replicas.
      parseClusterConfigs(
        routes.map((candidate) =>
          candidate === route ? { ...candidate.config, replicas: [...replicas] } : candidate.config,
        ),
      );
      const { added, removed } = route.setReplicas(replicas);
      unwatch(route, new Set(removed));
      watch(route, added);
      return true;
    },
    removeCluster: (name) => {
      const route = routes.find((candidate) => candidate.config.name === name);
      if (route === undefined) return false;
      disabledClusters.delete(name);
      detach(route);
      return true;
    },
    setAvailability: (name, availability) => {
      const route = routes.find((candidate) => candidate.config.name === name);
      if (route === undefined) return false;
      if (availability.disabled) disabledClusters.add(name);
      else disabledClusters.delete(name);
      route.setDisabledReplicas(new Set(availability.disabledReplicas));
      return true;
    },
    close: () => {
      closing ??= (async () => {
        for (const route of routes) route.close();
        await health.stop();
      })();
      return closing;
    },
  };
}
