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
  /** Location-based grid intensity of the region. */
  gridIntensityGCo2ePerKwh: number;
  pue?: number;
  /** Where the location-based figure comes from. */
  gridIntensitySource?: string;
  /** Market-based factor (PPAs, certificates), reported next to the location-based one. */
  marketGridIntensityGCo2ePerKwh?: number;
  /** GHG scope of its emissions; `owned` when unset. */
  ownership?: ClusterOwnership;
  /** Carbon profile per served model; a model without one is metered as dense at its price list weight. */
  modelProfiles?: Record<string, ModelProfile>;
}

/** `owned`: electricity Scope 2, embodied Scope 3 category 2; `rented`: Scope 3 category 1. */
export type ClusterOwnership = 'owned' | 'rented';

/** A served model's parameters as the carbon model needs them (for a dense model active = total). */
export interface ModelProfile {
  totalParamsBillions: number;
  activeParamsBillions: number;
  /** Measured decode speed; replaces EcoLogits' latency regression. */
  tokensPerSecond?: number;
}

/** closed: serving; open: refused until the cooldown ends; half-open: one trial request decides. */
export type CircuitState = 'closed' | 'open' | 'half-open';

/** What a gateway saw of its replicas, as it reports it to the registry. */
export interface ReplicaHealthReport {
  replicas: readonly { id: string; cluster: string; healthy: boolean; circuit: CircuitState }[];
}
