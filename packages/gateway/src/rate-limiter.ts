import { invariant, RateLimitedError } from '@tokenwise/core';
import type { Principal } from './ports';

/** Rate-limit windows kept per gateway process; the least recently used is dropped beyond this. */
export const rateLimitKeysMax = 20_000;

export { RateLimitedError } from '@tokenwise/core';

export interface RateLimiter {
  /** Throws RateLimitedError when one more request, or `estimatedTokens` more tokens, would exceed the key's limits; else counts the request. */
  checkRequest(principal: Principal, estimatedTokens: number): void;
  /** Counts the tokens a request actually used (prompt + completion) against the key's tpm limit. */
  recordTokens(principal: Principal, tokens: number): void;
}

const windowSeconds = 60;

/** One key's last 60 seconds, in one-second buckets (a ring indexed by second % 60). */
interface KeyWindow {
  lastSecond: number;
  requests: Uint32Array;
  tokens: Float64Array;
  requestsTotal: number;
  tokensTotal: number;
}

function bump(counts: Uint32Array | Float64Array, second: number, by: number): void {
  const index = second % windowSeconds;
  counts[index] = (counts[index] ?? 0) + by;
}

/** Sums `counts` from the oldest bucket on, and returns the second whose bucket, once it leaves the window, brings the total down to `target`. */
function secondFreeing(counts: ArrayLike<number>, total: number, target: number, lastSecond: number): number {
  let remaining = total;
  for (let second = lastSecond - windowSeconds + 1; second <= lastSecond; second += 1) {
    remaining -= counts[((second % windowSeconds) + windowSeconds) % windowSeconds] as number;
    if (remaining <= target) return second;
  }
  return lastSecond;
}

/**
 * Sliding 60-second windows per key, with one-second resolution. The limits hold per gateway
 * process: behind N replicas a key may reach up to N times its rpm and tpm. Tokens count when
 * recorded after a request, so requests admitted in the same instant are not held against each
 * other (their number is bounded by rpm). Memory: at most `rateLimitKeysMax` windows, under 1 KB each.
 */
export function createRateLimiter(options: { clock?: () => number } = {}): RateLimiter {
  const clock = options.clock ?? Date.now;
  const windows = new Map<string, KeyWindow>();

  function windowOf(keyId: string, nowSecond: number): KeyWindow {
    let window = windows.get(keyId);
    if (window === undefined) {
      window = {
        lastSecond: nowSecond,
        requests: new Uint32Array(windowSeconds),
        tokens: new Float64Array(windowSeconds),
        requestsTotal: 0,
        tokensTotal: 0,
      };
      if (windows.size >= rateLimitKeysMax) windows.delete(windows.keys().next().value as string);
    } else {
      windows.delete(keyId);
      advance(window, nowSecond);
    }
    windows.set(keyId, window);
    return window;
  }

  function advance(window: KeyWindow, nowSecond: number): void {
    // A clock that went backwards keeps the window where it was.
    const steps = Math.min(nowSecond - window.lastSecond, windowSeconds);
    for (let step = 1; step <= steps; step += 1) {
      const index = (window.lastSecond + step) % windowSeconds;
      window.requestsTotal -= window.requests[index] as number;
      window.tokensTotal -= window.tokens[index] as number;
      window.requests[index] = 0;
      window.tokens[index] = 0;
    }
    if (nowSecond > window.lastSecond) window.lastSecond = nowSecond;
  }

  function retryAfter(second: number, nowMs: number): number {
    return Math.max(1, Math.ceil(((second + windowSeconds) * 1000 - nowMs) / 1000));
  }

  return {
    checkRequest(principal, estimatedTokens) {
      invariant(
        Number.isFinite(estimatedTokens) && estimatedTokens >= 0,
        'estimatedTokens must be a count of zero or more',
      );
      const { rpmLimit, tpmLimit, keyId } = principal;
      if (rpmLimit === null && tpmLimit === null) return;
      const nowMs = clock();
      const window = windowOf(keyId, Math.floor(nowMs / 1000));
      if (rpmLimit !== null && window.requestsTotal + 1 > rpmLimit) {
        const retryAfterSeconds = retryAfter(
          secondFreeing(window.requests, window.requestsTotal, rpmLimit - 1, window.lastSecond),
          nowMs,
        );
        throw new RateLimitedError(
          `Rate limit reached for API key ${keyId}: rpm limit of ${rpmLimit} requests per minute. Retry in ${retryAfterSeconds} s.`,
          {
            keyId,
            limit: 'rpm',
            limitValue: rpmLimit,
            retryAfterSeconds,
          },
        );
      }
      if (tpmLimit !== null && estimatedTokens > tpmLimit) {
        throw new RateLimitedError(
          `Request too large for API key ${keyId}: it may use up to ${estimatedTokens} tokens, over the tpm limit of ${tpmLimit} tokens per minute. Lower max_tokens or shorten the prompt; retrying as is will not help.`,
          { keyId, limit: 'tpm', limitValue: tpmLimit, retryAfterSeconds: windowSeconds },
        );
      }
      if (tpmLimit !== null && window.tokensTotal + estimatedTokens > tpmLimit) {
        const retryAfterSeconds = retryAfter(
          secondFreeing(window.tokens, window.tokensTotal, tpmLimit - estimatedTokens, window.lastSecond),
          nowMs,
        );
        throw new RateLimitedError(
          `Rate limit reached for API key ${keyId}: tpm limit of ${tpmLimit} tokens per minute (${window.tokensTotal} used in the last 60 s, this request may use up to ${estimatedTokens}). Retry in ${retryAfterSeconds} s.`,
          { keyId, limit: 'tpm', limitValue: tpmLimit, retryAfterSeconds },
        );
      }
      bump(window.requests, window.lastSecond, 1);
      window.requestsTotal += 1;
    },

    recordTokens(principal, tokens) {
      invariant(Number.isFinite(tokens) && tokens >= 0, 'tokens must be a count of zero or more');
      if (principal.tpmLimit === null || tokens === 0) return;
      const window = windowOf(principal.keyId, Math.floor(clock() / 1000));
      bump(window.tokens, window.lastSecond, tokens);
      window.tokensTotal += tokens;
    },
  };
}
