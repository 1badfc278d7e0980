export { CircuitBreaker, circuitCooldownMsDefault, circuitFailuresToOpenDefault } from './circuit-breaker';
export { clusterSyncIntervalMsDefault, startClusterSync, type ClusterSync } from './cluster-sync';
export {
  NoHealthyReplicaError,
  QueueFullError,
  QueueTimeoutError,
  UnknownModelError,
  type RoutingErrorCode,
} from './errors';
export { healthCheckIntervalMsDefault, healthCheckTimeoutMsDefault } from './health-checker';
export { prefersCleanCluster, tiersByUrgency, vllmPriorityOf } from './priority';
export { createRouter, type CheckedRouter } from './router';
export { estimateRetryAfterSeconds, retryAfterSecondsMax } from './service-rate';
export type {
  AcquireOptions,
  CircuitState,
  ClusterConfig,
  Lease,
  ModelSnapshot,
  Replica,
  ReplicaConfig,
  ReplicaSnapshot,
  Router,
  RouterOptions,
  RouterSnapshot,
} from './types';
