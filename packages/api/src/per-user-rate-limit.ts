import { invariant } from '@tokenwise/core';

/** Users whose recent calls one limiter remembers; beyond it the least recently used is forgotten. */
export const rateLimitedUsersMax = 10_000;

export interface PerUserRateLimit {
  /** Counts one call of `userId`; returns how many seconds to wait when it is over the limit (and then counts nothing). */
  take(userId: string): { ok: true } | { ok: false; retryAfterSeconds: number };
}

/**
 * At most `limit` calls per user in any `windowMs`, per process: the start times of the last
 * `limit` calls, so the retry time is exact. Memory is bounded by `rateLimitedUsersMax` users.
 */
export function createPerUserRateLimit(options: {
  limit: number;
  windowMs: number;
  clock?: () => number;
}): PerUserRateLimit {
  invariant(Number.isInteger(options.limit) && options.limit >= 1, 'a rate limit allows at least one call');
  const clock = options.clock ?? Date.now;
  const recent = new Map<string, number[]>();
  return {
    take(userId) {
      const nowMs = clock();
      const kept = (recent.get(userId) ?? []).filter((startedMs) => startedMs > nowMs - options.windowMs);
      recent.delete(userId);
      if (kept.length >= options.limit) {
        recent.set(userId, kept);
        const oldest = kept[0] as number;
        return { ok: false, retryAfterSeconds: Math.max(1, Math.ceil((oldest + options.windowMs - nowMs) / 1000)) };
      }
      if (recent.size >= rateLimitedUsersMax) {
        const leastRecent = recent.keys().next();
        if (leastRecent.done !== true) recent.delete(leastRecent.value);
      }
      recent.set(userId, [...kept, nowMs]);
      return { ok: true };
    },
  };
}
