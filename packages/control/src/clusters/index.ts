export type {
  CircuitState,
  ClusterConfig,
  ClusterOwnership,
  ModelProfile,
  ReplicaConfig,
  ReplicaHealthReport,
} from './cluster-config';
export {
  clusterConfigSchema,
  clusterOwnerships,
  modelParamsBillionsMax,
  modelProfileSchema,
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
  clusterConfigOf,
  clusterRecordsMax,
  findCluster,
  listClusters,
  registerClusters,
  type ClusterCarbon,
  type ClusterRecord,
  type ReplicaHealth,
} from './cluster-records';
export { addCluster, addReplica, removeCluster, removeReplica } from './cluster-changes';
export {
  clusterCarbonSchema,
  reportClusterHealth,
  setClusterCarbon,
  setClusterDisabled,
  setReplicaDisabled,
  type ClusterCarbonInput,
} from './cluster-state';
