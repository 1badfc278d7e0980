import { type PriorityTier, invariant } from '@tokenwise/core';
import { CircuitBreaker } from './circuit-breaker';
import { NoHealthyReplicaError, QueueFullError, QueueTimeoutError } from './errors';
import { tiersByUrgency, vllmPriorityOf } from './priority';
import { type ReplicaState, hasFreeSlot, snapshotReplica } from './replica-state';
import { type LeaseOwner, RouteLease } from './route-lease';
import { ServiceRate, estimateRetryAfterSeconds } from './service-rate';
import { TieredQueue } from './tiered-queue';
import { type CancelSignal, type ClusterConfig, type Lease, type ReplicaSnapshot } from './types';
import { Waiter, type WaiterOwner, onWaitTimeout } from './waiter';

/** One cluster's standing for one request, at one instant (see ClusterRoute.standing). */
export interface RouteStanding {
  /** Some replica is neither disabled nor excluded: the request may run here at all. */
  usable: boolean;
  /** Some usable replica is healthy with a circuit that is not open: a wait here ends in service. */
  servable: boolean;
  /** Nothing waits and a usable replica has a free slot: the request would be granted at once. */
  grantableNow: boolean;
  /** queueDepthMax requests of the model wait here already. */
  queueFull: boolean;
  /** Requests in flight or waiting per slot of its servable replicas; Infinity with none. */
  loadPerSlot: number;
  /** Waiters served before a new one of this tier (plus itself), per servable slot: its expected wait in service times. */
  waitPerSlot: number;
}

export interface ClusterRouteOptions {
  clock: () => number;
  circuitFailuresToOpen: number;
  circuitCooldownMs: number;
}

/** Message of the error every waiter gets at shutdown. */
export const shuttingDownMessage = 'Gateway shutting down: retry the request, another gateway instance will serve it.';

/**
 * Slots, queue and replica choice of one cluster. Every model of the cluster shares its replicas,
 * so one priority queue per cluster serves them in tier order (FIFO across models within a tier);
 * the depth limit is counted per model.
 */
export class ClusterRoute implements LeaseOwner, WaiterOwner {
  replicas: ReplicaState[];
  private readonly circuitFailuresToOpen: number;
  private readonly queue = new TieredQueue<Waiter>(tiersByUrgency.length);
  private readonly depthByModel = new Map<string, number>();
  private readonly serviceRate: ServiceRate;
  private readonly clock: () => number;
  private readonly circuitCooldownMs: number;
  private cursor = 0;
  private closed = false;

  constructor(
    public config: ClusterConfig,
    options: ClusterRouteOptions,
  ) {
    this.clock = options.clock;
    this.circuitCooldownMs = options.circuitCooldownMs;
    this.serviceRate = new ServiceRate(options.clock());
    this.circuitFailuresToOpen = options.circuitFailuresToOpen;
    this.replicas = config.replicas.map((replica, index) => this.newReplica(replica, index));
  }

  private newReplica(replica: { id: string; url: string }, index: number): ReplicaState {
    return {
      replica: Object.freeze({ id: replica.id, url: replica.url, cluster: this.config.name }),
      index,
      breaker: new CircuitBreaker(this.circuitFailuresToOpen, this.circuitCooldownMs),
      healthy: true,
      disabled: false,
      inFlight: 0,
      cooldownTimer: undefined,
    };
  }

  /**
   * Replaces the replica list: a replica kept (same id and URL) keeps its health, circuit and
   * requests in flight; a removed one gets no new request (its leases still finish); a new one
   * starts healthy. Returns the replicas added and removed, for the caller's health checks.
   */
  setReplicas(replicas: readonly { id: string; url: string }[]): { added: ReplicaState[]; removed: ReplicaState[] } {
    const kept = new Map(this.replicas.map((state) => [`${state.replica.id} ${state.replica.url}`, state]));
    const added: ReplicaState[] = [];
    const next = replicas.map((replica, index) => {
      const state = kept.get(`${replica.id} ${replica.url}`);
      kept.delete(`${replica.id} ${replica.url}`);
      if (state !== undefined) {
        state.index = index;
        return state;
      }
      const fresh = this.newReplica(replica, index);
      added.push(fresh);
      return fresh;
    });
    const removed = [...kept.values()];
    for (const state of removed) clearTimeout(state.cooldownTimer);
    this.replicas = next;
    this.config = Object.freeze({
      ...this.config,
      replicas: replicas.map((replica) => ({ id: replica.id, url: replica.url })),
    });
    if (this.cursor >= next.length) this.cursor = 0;
    if (added.length > 0) this.dispatch();
    return { added, removed };
  }

  /** A lease now when nothing waits ahead and a slot is free, else a place in the queue. */
  acquire(
    model: string,
    tier: PriorityTier,
    signal: CancelSignal | undefined,
    exclude: ReadonlySet<string> | undefined,
  ): Promise<Lease> {
    if (this.closed) return Promise.reject(new NoHealthyReplicaError(shuttingDownMessage));
    if (signal?.aborted) return Promise.reject(signal.reason);
    const tierIndex = vllmPriorityOf(tier);
    invariant(tierIndex !== undefined, `unknown priority tier "${String(tier)}"`);
    const nowMs = this.clock();
    if (this.queue.size === 0) {
      const state = this.pick(nowMs, exclude);
      if (state !== undefined) return Promise.resolve(this.grant(state, tierIndex, nowMs));
    }
    if (exclude !== undefined && this.replicas.every((state) => state.disabled || exclude.has(state.replica.id))) {
      return Promise.reject(
        new NoHealthyReplicaError(
          `Every replica of cluster "${this.config.name}" serving model "${model}" already failed this request; retry it later.`,
          { model, cluster: this.config.name },
        ),
      );
    }
    const depth = this.depthByModel.get(model) ?? 0;
    if (depth >= this.config.queueDepthMax) {
      return Promise.reject(new QueueFullError({ model, depth, retryAfterSeconds: this.retryAfterSeconds(nowMs) }));
    }
    return new Promise<Lease>((resolve, reject) => {
      const waiter = new Waiter(this, model, tier, tierIndex, exclude, signal, resolve, reject);
      this.queue.push(waiter);
      this.depthByModel.set(model, depth + 1);
      waiter.timer = setTimeout(onWaitTimeout, this.config.queueWaitMsMax, waiter);
      signal?.addEventListener('abort', waiter, { once: true });
      this.dispatch();
    });
  }

  queueDepth(model: string): number {
    return this.depthByModel.get(model) ?? 0;
  }

  /** What the router weighs when it chooses among the clusters serving a model, for one request. */
  standing(model: string, tierIndex: number, exclude: ReadonlySet<string> | undefined, nowMs: number): RouteStanding {
    let usable = false;
    let servableReplicas = 0;
    let inFlight = 0;
    for (const state of this.replicas) {
      inFlight += state.inFlight;
      if (state.disabled || exclude?.has(state.replica.id)) continue;
      usable = true;
      if (state.healthy && state.breaker.state(nowMs) !== 'open') servableReplicas++;
    }
    const slots = servableReplicas * this.config.maxConcurrencyPerReplica;
    return {
      usable: usable && !this.closed,
      servable: slots > 0 && !this.closed,
      grantableNow: !this.closed && this.queue.size === 0 && this.pick(nowMs, exclude) !== undefined,
      queueFull: (this.depthByModel.get(model) ?? 0) >= this.config.queueDepthMax,
      loadPerSlot: slots === 0 ? Infinity : (inFlight + this.queue.size) / slots,
      waitPerSlot: slots === 0 ? Infinity : (this.queue.sizeThroughTier(tierIndex) + 1) / slots,
    };
  }

  /** Hands free slots to waiters in priority order until no waiter fits a free slot. */
  dispatch(): void {
    if (this.closed) return;
    const nowMs = this.clock();
    while (this.queue.size > 0) {
      const anyFree = this.pick(nowMs, undefined);
      if (anyFree === undefined) return;
      const first = this.queue.first();
      invariant(first !== undefined, 'a non-empty queue has a first waiter');
      if (first.exclude === undefined || !first.exclude.has(anyFree.replica.id)) {
        this.serve(first, anyFree, nowMs);
        continue;
      }
      // Failover waiters whose exclusions cover the free replicas must not block those behind them.
      if (!this.serveFirstFitting(nowMs)) return;
    }
  }

  /** Takes replicas out of rotation or back in; requests in flight finish, and health and circuit state stay. */
  setDisabledReplicas(ids: ReadonlySet<string>): void {
    let enabledAny = false;
    for (const state of this.replicas) {
      const disabled = ids.has(state.replica.id);
      if (state.disabled && !disabled) enabledAny = true;
      state.disabled = disabled;
    }
    if (enabledAny) this.dispatch();
  }

  setHealthy(state: ReplicaState, healthy: boolean): void {
    if (state.healthy === healthy) return;
    state.healthy = healthy;
    if (healthy) this.dispatch();
  }

  finished(state: ReplicaState, trial: boolean, ok: boolean): void {
    const nowMs = this.clock();
    invariant(state.inFlight > 0, `replica "${state.replica.id}" finished a request it did not have`);
    state.inFlight--;
    this.serviceRate.record(nowMs);
    if (state.breaker.finish(ok, trial, nowMs)) this.wakeAfterCooldown(state);
    this.dispatch();
  }

  returnedUnused(state: ReplicaState, trial: boolean): void {
    invariant(state.inFlight > 0, `replica "${state.replica.id}" got back a slot it did not lend`);
    state.inFlight--;
    if (trial) state.breaker.cancelTrial();
    this.dispatch();
  }

  expire(waiter: Waiter): void {
    if (!this.leave(waiter)) return;
    const retryAfterSeconds = this.retryAfterSeconds(this.clock());
    waiter.reject(
      new QueueTimeoutError({ model: waiter.model, waitedMs: this.config.queueWaitMsMax, retryAfterSeconds }),
    );
  }

  abandon(waiter: Waiter): void {
    if (!this.leave(waiter)) return;
    waiter.reject(waiter.signal?.reason);
  }

  snapshotReplicas(): ReplicaSnapshot[] {
    const nowMs = this.clock();
    return this.replicas.map((state) => snapshotReplica(state, nowMs));
  }

  /** Rejects every waiter (with `reason`) and refuses new requests; leases out keep working until released. */
  close(reason = shuttingDownMessage): void {
    this.closed = true;
    for (const state of this.replicas) clearTimeout(state.cooldownTimer);
    const waiters = this.queue.drain();
    this.depthByModel.clear();
    for (const waiter of waiters) {
      waiter.waiting = false;
      waiter.detach();
      waiter.reject(new NoHealthyReplicaError(reason));
    }
  }

  private serveFirstFitting(nowMs: number): boolean {
    for (const waiter of this.queue.waiting()) {
      const state = this.pick(nowMs, waiter.exclude);
      if (state === undefined) continue;
      this.serve(waiter, state, nowMs);
      return true;
    }
    return false;
  }

  private serve(waiter: Waiter, state: ReplicaState, nowMs: number): void {
    const left = this.leave(waiter);
    invariant(left, 'served a waiter that was no longer waiting');
    waiter.resolve(this.grant(state, waiter.tierIndex, nowMs));
  }

  /** Takes the waiter out of the queue; false when it had left already. */
  private leave(waiter: Waiter): boolean {
    if (!waiter.waiting) return false;
    waiter.waiting = false;
    this.queue.markRemoved(waiter);
    const depth = this.depthByModel.get(waiter.model) ?? 0;
    invariant(depth > 0, `queue depth of model "${waiter.model}" would go negative`);
    this.depthByModel.set(waiter.model, depth - 1);
    waiter.detach();
    return true;
  }

  private grant(state: ReplicaState, tierIndex: number, nowMs: number): RouteLease {
    const trial = state.breaker.start(nowMs);
    state.inFlight++;
    this.cursor = state.index + 1 === this.replicas.length ? 0 : state.index + 1;
    const vllmPriority = this.config.priorityScheduling ? tierIndex : undefined;
    return new RouteLease(this, state, this.config, vllmPriority, trial);
  }

  /** Least outstanding requests among replicas with a free slot; ties go round-robin from the cursor. */
  private pick(nowMs: number, exclude: ReadonlySet<string> | undefined): ReplicaState | undefined {
    const replicas = this.replicas;
    const concurrencyMax = this.config.maxConcurrencyPerReplica;
    let best: ReplicaState | undefined;
    for (let step = 0, i = this.cursor; step < replicas.length; step++, i = i + 1 === replicas.length ? 0 : i + 1) {
      const state = replicas[i] as ReplicaState;
      if (best !== undefined && state.inFlight >= best.inFlight) continue;
      if (!hasFreeSlot(state, concurrencyMax, nowMs) || exclude?.has(state.replica.id)) continue;
      best = state;
    }
    return best;
  }

  private wakeAfterCooldown(state: ReplicaState): void {
    clearTimeout(state.cooldownTimer);
    state.cooldownTimer = setTimeout(() => {
      state.cooldownTimer = undefined;
      this.dispatch();
    }, this.circuitCooldownMs);
    state.cooldownTimer.unref();
  }

  private retryAfterSeconds(nowMs: number): number {
    return estimateRetryAfterSeconds(this.queue.size, this.serviceRate.perSecond(nowMs), this.config.queueWaitMsMax);
  }
}
