import { invariant } from '@tokenwise/core';

/** Completions counted over the current and the previous window of this length, in milliseconds. */
export const serviceRateWindowMs = 10_000;

/**
 * Recent completions per second from two fixed windows: O(1) memory and time, no timers. Reads
 * over at most two windows, so a stall shows within `2 * windowMs`.
 */
export class ServiceRate {
  private windowStartMs: number;
  private currentCount = 0;
  private previousCount = 0;
  private hasPrevious = false;

  constructor(
    nowMs: number,
    private readonly windowMs: number = serviceRateWindowMs,
  ) {
    invariant(windowMs > 0, 'windowMs must be positive');
    this.windowStartMs = nowMs;
  }

  record(nowMs: number): void {
    this.roll(nowMs);
    this.currentCount++;
  }

  /** Completions per second over the last one to two windows; 0 when nothing completed. */
  perSecond(nowMs: number): number {
    this.roll(nowMs);
    const elapsedMs = Math.max(1, nowMs - this.windowStartMs + (this.hasPrevious ? this.windowMs : 0));
    return ((this.previousCount + this.currentCount) * 1000) / elapsedMs;
  }

  private roll(nowMs: number): void {
    const elapsedMs = nowMs - this.windowStartMs;
    if (elapsedMs < this.windowMs) return;
    if (elapsedMs < 2 * this.windowMs) {
      this.previousCount = this.currentCount;
      this.windowStartMs += this.windowMs;
    } else {
      this.previousCount = 0;
      this.windowStartMs = nowMs;
    }
    this.currentCount = 0;
    this.hasPrevious = true;
  }
}

/** Longest Retry-After the gateway suggests, in seconds. */
export const retryAfterSecondsMax = 60;

/** Seconds until `queued` waiters ahead are likely served at `perSecond`; with no recent completions, the longest wait. */
export function estimateRetryAfterSeconds(queued: number, perSecond: number, queueWaitMsMax: number): number {
  const seconds = perSecond > 0 ? Math.ceil((queued + 1) / perSecond) : Math.ceil(queueWaitMsMax / 1000);
  return Math.min(retryAfterSecondsMax, Math.max(1, seconds));
}
