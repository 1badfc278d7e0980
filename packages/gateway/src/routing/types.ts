import { type PriorityTier } from '@tokenwise/core';
import type { CircuitState, ClusterConfig, ReplicaConfig } from '@tokenwise/control';

export type { CircuitState, ClusterConfig, ReplicaConfig };

export {
  NoHealthyReplicaError,
  QueueFullError,
  QueueTimeoutError,
  UnknownModelError,
  type RoutingErrorCode,
} from './errors';

/** An abort listener: a function, or an object that is its own listener (`handleEvent`), as on an EventTarget. */
export type CancelListener = (() => void) | { handleEvent(): void };

/**
 * What the request path reads of an abort signal. A web `AbortSignal` satisfies it, and so does the
 * lighter `RequestAbort` (../abort.ts) the gateway makes for each request.
 */
export interface CancelSignal {
  readonly aborted: boolean;
  readonly reason: unknown;
  addEventListener(type: 'abort', listener: CancelListener, options?: { once?: boolean }): void;
  removeEventListener(type: 'abort', listener: CancelListener): void;
}

export interface Replica {
  id: string;
  url: string;
  cluster: string;
}

export interface Lease {
  replica: Replica;
  cluster: ClusterConfig;
  /** vLLM `priority` to send, or undefined when the cluster does not run priority scheduling. */
  vllmPriority: number | undefined;
  /** Call exactly once. ok=false counts towards the replica's circuit breaker. */
  release(outcome: { ok: boolean }): void;
}

export interface ReplicaSnapshot {
  id: string;
  url: string;
  cluster: string;
  healthy: boolean;
  circuit: CircuitState;
  inFlight: number;
}

export interface ModelSnapshot {
  model: string;
  cluster: string;
  queueDepth: number;
}

export interface RouterSnapshot {
  replicas: ReplicaSnapshot[];
  models: ModelSnapshot[];
}

export interface AcquireOptions {
  signal?: CancelSignal;
  exclude?: ReadonlySet<string>;
  /**
   * Among the clusters serving the model, prefer the cleanest (lowest grid intensity x PUE) with a
   * free slot over the least loaded: low and normal tiers of an org with carbon-aware routing on.
   */
  preferClean?: boolean;
  /**
   * Names of the only clusters the request may go to: those its carbon hold was sized for at
   * admission (`clustersFor`), so a cluster added or enabled since never gets it. Absent: any.
   */
  within?: ReadonlySet<string>;
}

export interface Router {
  /** One enabled cluster serving `model`: the one with the most operational carbon per kWh (so a bound sized from it covers them all). */
  clusterFor(model: string): ClusterConfig | undefined;
  /** Every cluster a request for `model` may be routed or failed over to (the carbon hold covers the dirtiest). */
  clustersFor(model: string): ClusterConfig[];
  models(): string[];
  /** Chooses one of the clusters serving the model (cleanest or least loaded, see `preferClean` and chooseRoute), then waits in that cluster's priority queue (urgent > high > normal > low; FIFO within a tier) for a free slot on a healthy replica, least outstanding requests first. `exclude`: replica ids not to use (failover after a failure before the first byte). Aborting `signal` removes the waiter. */
  acquire(model: string, tier: PriorityTier, options?: AcquireOptions): Promise<Lease>;
  /** Requests waiting for the model, across the clusters serving it. */
  queueDepth(model: string): number;
  /** Per replica: id, url, healthy, circuit state, inFlight; per model and cluster serving it: queue depth. For /metrics. */
  snapshot(): RouterSnapshot;
  close(): Promise<void>;
}

export interface RouterOptions {
  clusters: ClusterConfig[];
  /** Default 2000. */
  healthCheckIntervalMs?: number;
  /** One health check gives up after this; default min(1000, healthCheckIntervalMs). */
  healthCheckTimeoutMs?: number;
  /** Consecutive failed outcomes that open a replica's circuit; default 5. */
  circuitFailuresToOpen?: number;
  /** How long an open circuit refuses requests before one trial; default 5000, measured with `clock`. */
  circuitCooldownMs?: number;
  fetch?: typeof fetch;
  /** Milliseconds; default Date.now. Drives circuit cooldowns and the service-rate estimate. */
  clock?: () => number;
}
