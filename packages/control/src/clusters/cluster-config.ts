/** One vLLM server of a cluster. */
export interface ReplicaConfig {
  id: string;
  /** Base URL without /v1, e.g. http://10.0.0.5:8000. */
  url: string;
}

/** A cluster as configured or registered: what it serves, where, how much at once, and its carbon coefficients. */
export interface ClusterConfig {
  name: string;
  /** Served model names (what clients put in `model`). */
  models: string[];
  replicas: ReplicaConfig[];
  /** Requests in flight per replica (vLLM's max_num_seqs or less). */
  maxConcurrencyPerReplica: number;
  /** True when the replicas run vLLM with --scheduling-policy priority: then the tier is passed as vLLM's integer `priority`. */
  priorityScheduling: boolean;
  /** Requests that may wait per model before new ones are refused with 429. */
  queueDepthMax: number;
  /** Longest a request waits for a slot before it is refused with 429. */
  queueWaitMsMax: number;
  region: string;
  gridIntensityGCo2ePerKwh: number;
  pue?: number;
}

/** closed: serving; open: refused until the cooldown ends; half-open: one trial request decides. */
export type CircuitState = 'closed' | 'open' | 'half-open';

/** What a gateway saw of its replicas, as it reports it to the registry. */
export interface ReplicaHealthReport {
  replicas: readonly { id: string; cluster: string; healthy: boolean; circuit: CircuitState }[];
}
