import { invariant } from '@tokenwise/core';

/** What the queue needs of an entry: its tier (0 = served first) and whether it still waits. */
export interface QueueEntry {
  readonly tierIndex: number;
  /** Set to false by the owner when the entry leaves out of order (timeout, abort, grant by scan). */
  waiting: boolean;
}

/** Dead entries tolerated beyond the live ones before a tier's array is compacted. */
const deadEntriesSlack = 64;

/**
 * One FIFO array per tier with a head index. Entries that leave out of order are only flagged
 * (`waiting = false`) and skipped later, so push, removal and taking the head are O(1) amortised.
 */
export class TieredQueue<T extends QueueEntry> {
  private readonly tiers: T[][];
  private readonly heads: number[];
  private readonly deadCounts: number[];
  private liveCount = 0;

  constructor(tierCount: number) {
    invariant(Number.isInteger(tierCount) && tierCount > 0, 'tierCount must be a positive integer');
    this.tiers = Array.from({ length: tierCount }, () => []);
    this.heads = new Array<number>(tierCount).fill(0);
    this.deadCounts = new Array<number>(tierCount).fill(0);
  }

  get size(): number {
    return this.liveCount;
  }

  /** Waiting entries of tiers 0..tierIndex: those served before a new entry of that tier. O(tiers). */
  sizeThroughTier(tierIndex: number): number {
    invariant(tierIndex >= 0 && tierIndex < this.tiers.length, `tierIndex ${tierIndex} is out of range`);
    let count = 0;
    for (let index = 0; index <= tierIndex; index++)
      count += (this.tiers[index] as T[]).length - (this.heads[index] as number) - (this.deadCounts[index] as number);
    return count;
  }

  push(entry: T): void {
    invariant(entry.waiting, 'only waiting entries are queued');
    const tier = this.tiers[entry.tierIndex];
    invariant(tier !== undefined, `tierIndex ${entry.tierIndex} is out of range`);
    tier.push(entry);
    this.liveCount++;
  }

  /** Call after setting `entry.waiting = false` on an entry that is still in the queue. */
  markRemoved(entry: T): void {
    invariant(!entry.waiting, 'markRemoved needs waiting=false first');
    this.liveCount--;
    const tierIndex = entry.tierIndex;
    const dead = (this.deadCounts[tierIndex] as number) + 1;
    this.deadCounts[tierIndex] = dead;
    const tier = this.tiers[tierIndex] as T[];
    if (dead > tier.length - (this.heads[tierIndex] as number) - dead + deadEntriesSlack) this.compact(tierIndex);
  }

  /** Waiting entries from first served to last, for the caller to pick from; stop iterating early. */
  *waiting(): Generator<T, void, undefined> {
    for (let tierIndex = 0; tierIndex < this.tiers.length; tierIndex++) {
      this.skipDeadHead(tierIndex);
      const tier = this.tiers[tierIndex] as T[];
      for (let i = this.heads[tierIndex] as number; i < tier.length; i++) {
        const entry = tier[i] as T;
        if (entry.waiting) yield entry;
      }
    }
  }

  /** The first waiting entry in priority order, or undefined. */
  first(): T | undefined {
    for (let tierIndex = 0; tierIndex < this.tiers.length; tierIndex++) {
      this.skipDeadHead(tierIndex);
      const tier = this.tiers[tierIndex] as T[];
      const head = this.heads[tierIndex] as number;
      if (head < tier.length) return tier[head];
    }
    return undefined;
  }

  /** Removes and returns every waiting entry (for shutdown). */
  drain(): T[] {
    const entries = [...this.waiting()];
    for (let tierIndex = 0; tierIndex < this.tiers.length; tierIndex++) {
      (this.tiers[tierIndex] as T[]).length = 0;
      this.heads[tierIndex] = 0;
      this.deadCounts[tierIndex] = 0;
    }
    this.liveCount = 0;
    return entries;
  }

  private skipDeadHead(tierIndex: number): void {
    const tier = this.tiers[tierIndex] as T[];
    let head = this.heads[tierIndex] as number;
    let dead = this.deadCounts[tierIndex] as number;
    while (head < tier.length && !(tier[head] as T).waiting) {
      head++;
      dead--;
    }
    if (head === tier.length) {
      tier.length = 0;
      head = 0;
      dead = 0;
    } else if (head > 1024 && head * 2 > tier.length) {
      tier.copyWithin(0, head);
      tier.length -= head;
      head = 0;
    }
    this.heads[tierIndex] = head;
    this.deadCounts[tierIndex] = dead;
  }

  private compact(tierIndex: number): void {
    const tier = this.tiers[tierIndex] as T[];
    let write = 0;
    for (let read = this.heads[tierIndex] as number; read < tier.length; read++) {
      const entry = tier[read] as T;
      if (entry.waiting) tier[write++] = entry;
    }
    tier.length = write;
    this.heads[tierIndex] = 0;
    this.deadCounts[tierIndex] = 0;
  }
}
