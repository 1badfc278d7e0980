import { type PriorityTier } from '@tokenwise/core';
import { type QueueEntry } from './tiered-queue';
import { type CancelSignal, type Lease } from './types';

/** What a waiter tells its cluster when it leaves the queue on its own. */
export interface WaiterOwner {
  expire(waiter: Waiter): void;
  abandon(waiter: Waiter): void;
}

/** A request waiting for a slot. It is its own abort listener (`handleEvent`), so waiting allocates no closures. */
export class Waiter implements QueueEntry {
  waiting = true;
  timer: NodeJS.Timeout | undefined;

  constructor(
    readonly owner: WaiterOwner,
    readonly model: string,
    readonly tier: PriorityTier,
    readonly tierIndex: number,
    readonly exclude: ReadonlySet<string> | undefined,
    readonly signal: CancelSignal | undefined,
    readonly resolve: (lease: Lease) => void,
    readonly reject: (error: unknown) => void,
  ) {}

  /** Abort listener. */
  handleEvent(): void {
    this.owner.abandon(this);
  }

  /** Stops the wait timer and the abort listener; call once the waiter leaves the queue. */
  detach(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.signal?.removeEventListener('abort', this);
  }
}

/** setTimeout callback for the queue wait limit; module-level so each waiter needs no closure. */
export function onWaitTimeout(waiter: Waiter): void {
  waiter.owner.expire(waiter);
}
