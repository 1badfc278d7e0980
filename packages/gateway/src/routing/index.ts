export { CircuitBreaker, circuitCooldownMsDefault, circuitFailuresToOpenDefault } from './circuit-breaker';
export {
  clusterConfigSchema,
  clusterSchema,
  clustersMax,
  concurrencyPerReplicaMax,
  modelsPerClusterMax,
  parseClusterConfigs,
  queueDepthMaxLimit,
  queueWaitMsMaxLimit,
  replicaSchema,
  replicasPerClusterMax,
} from './config-schema';
export {
  addCluster,
  addReplica,
  clusterCarbonSchema,
  clusterConfigOf,
  clusterRecordsMax,
  findCluster,
  listClusters,
  registerClusters,
  removeCluster,
  removeReplica,
  reportClusterHealth,
  setClusterCarbon,
  setClusterDisabled,
  setReplicaDisabled,
  type ClusterCarbon,
  type ClusterCarbonInput,
  type ClusterRecord,
  type ReplicaHealth,
} from './cluster-store';
export { clusterSyncIntervalMsDefault, startClusterSync, type ClusterSync } from './cluster-sync';
export {
  NoHealthyReplicaError,
  QueueFullError,
  QueueTimeoutError,
  UnknownModelError,
  type RoutingErrorCode,
} from './errors';
export { healthCheckIntervalMsDefault, healthCheckTimeoutMsDefault } from './health-checker';
export { tiersByUrgency, vllmPriorityOf } from './priority';
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
