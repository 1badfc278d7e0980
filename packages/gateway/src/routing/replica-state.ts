import { type CircuitBreaker } from './circuit-breaker';
import { type Replica, type ReplicaSnapshot } from './types';

/** What the router knows about one replica; mutated only by its ClusterRoute. */
export interface ReplicaState {
  readonly replica: Readonly<Replica>;
  /** Position in the cluster's replica list, for round-robin among ties. */
  index: number;
  readonly breaker: CircuitBreaker;
  healthy: boolean;
  /** Taken out of rotation by an operator: no new request, health checks go on. */
  disabled: boolean;
  inFlight: number;
  /** Wakes waiters when an open circuit's cooldown ends; one per replica at most. */
  cooldownTimer: NodeJS.Timeout | undefined;
}

/** Whether the replica can take one more request now (ignoring exclusions). */
export function hasFreeSlot(state: ReplicaState, concurrencyMax: number, nowMs: number): boolean {
  return state.healthy && !state.disabled && state.inFlight < concurrencyMax && state.breaker.allows(nowMs);
}

/** The replica's row in a router snapshot. */
export function snapshotReplica(state: ReplicaState, nowMs: number): ReplicaSnapshot {
  const { id, url, cluster } = state.replica;
  return { id, url, cluster, healthy: state.healthy, circuit: state.breaker.state(nowMs), inFlight: state.inFlight };
}
