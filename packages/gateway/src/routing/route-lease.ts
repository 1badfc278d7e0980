import { invariant } from '@tokenwise/core';
import { type ReplicaState } from './replica-state';
import { type ClusterConfig, type Lease, type Replica } from './types';

/** What a lease reports back to its cluster. */
export interface LeaseOwner {
  finished(state: ReplicaState, trial: boolean, ok: boolean): void;
  returnedUnused(state: ReplicaState, trial: boolean): void;
}

/** One granted slot on one replica; gives it back exactly once. */
export class RouteLease implements Lease {
  readonly replica: Replica;
  private released = false;

  constructor(
    private readonly owner: LeaseOwner,
    private readonly state: ReplicaState,
    readonly cluster: ClusterConfig,
    readonly vllmPriority: number | undefined,
    /** The half-open circuit's single trial request. */
    private readonly trial: boolean,
  ) {
    this.replica = state.replica;
  }

  /** Call exactly once. ok=false counts towards the replica's circuit breaker. */
  readonly release = (outcome: { ok: boolean }): void => {
    invariant(!this.released, `lease on replica "${this.replica.id}" released twice`);
    this.released = true;
    this.owner.finished(this.state, this.trial, outcome.ok);
  };

  /** Gives the slot back without an outcome: the waiter was aborted as it was woken. */
  returnUnused(): void {
    invariant(!this.released, `lease on replica "${this.replica.id}" returned after release`);
    this.released = true;
    this.owner.returnedUnused(this.state, this.trial);
  }
}
