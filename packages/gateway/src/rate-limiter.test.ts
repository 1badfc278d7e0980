import { describe, expect, it } from 'vitest';
import { createRateLimiter, RateLimitedError } from './rate-limiter';
import type { Principal } from './ports';

const principal = (
  limits: { rpmLimit?: number | null; tpmLimit?: number | null },
  keyId = 'abcdefghijkl',
): Principal => ({
  keyId,
  orgId: 'org',
  userId: 'user',
  teamId: null,
  systemOwner: null,
  scopes: ['inference'],
  allowedModels: null,
  rpmLimit: limits.rpmLimit ?? null,
  tpmLimit: limits.tpmLimit ?? null,
  carbonAwareRouting: true,
});

function caught(run: () => void): RateLimitedError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(RateLimitedError);
    return error as RateLimitedError;
  }
  throw new Error('expected a RateLimitedError');
}

describe('per-key rate limits (sliding 60 s windows)', () => {
  it('allows rpm requests in a minute, then refuses with the time until the oldest leaves the window', () => {
    let nowMs = 1_000_000;
    const limiter = createRateLimiter({ clock: () => nowMs });
    const key = principal({ rpmLimit: 3 });
    limiter.checkRequest(key, 0);
    nowMs += 10_000;
    limiter.checkRequest(key, 0);
    limiter.checkRequest(key, 0);
    nowMs += 5_500;
    const error = caught(() => limiter.checkRequest(key, 0));
    expect(error.code).toBe('RATE_LIMITED');
    expect(error.retryAfterSeconds).toBe(45);
    expect(error.message).toBe(
      'Rate limit reached for API key abcdefghijkl: rpm limit of 3 requests per minute. Retry in 45 s.',
    );
    expect(error.details).toMatchObject({ limit: 'rpm', limitValue: 3, retryAfterSeconds: 45 });
    // A refused request does not count: after the first leaves the window there is room for one.
    nowMs = 1_000_000 + 60_000;
    limiter.checkRequest(key, 0);
    expect(caught(() => limiter.checkRequest(key, 0)).retryAfterSeconds).toBe(10);
    nowMs += 10_000;
    limiter.checkRequest(key, 0);
    limiter.checkRequest(key, 0);
  });

  it('refuses when recorded tokens plus the estimate would pass tpm, and frees them as they age out', () => {
    let nowMs = 0;
    const limiter = createRateLimiter({ clock: () => nowMs });
    const key = principal({ tpmLimit: 1_000 });
    limiter.checkRequest(key, 600);
    limiter.recordTokens(key, 600);
    nowMs = 20_000;
    limiter.checkRequest(key, 300);
    limiter.recordTokens(key, 300);
    nowMs = 30_000;
    const error = caught(() => limiter.checkRequest(key, 200));
    expect(error.message).toBe(
      'Rate limit reached for API key abcdefghijkl: tpm limit of 1000 tokens per minute (900 used in the last 60 s, this request may use up to 200). Retry in 30 s.',
    );
    expect(error.details).toMatchObject({ limit: 'tpm', limitValue: 1_000 });
    limiter.checkRequest(key, 100);
    nowMs = 60_000;
    limiter.checkRequest(key, 200);
  });

  it('says when one request alone is larger than the tpm limit', () => {
    const limiter = createRateLimiter({ clock: () => 0 });
    expect(caught(() => limiter.checkRequest(principal({ tpmLimit: 100 }), 101)).message).toMatch(
      /may use up to 101 tokens, over the tpm limit of 100 tokens per minute\. Lower max_tokens/,
    );
  });

  it('keeps keys apart, ignores keys without limits, and survives a clock going backwards', () => {
    let nowMs = 100_000;
    const limiter = createRateLimiter({ clock: () => nowMs });
    const one = principal({ rpmLimit: 1 }, 'aaaaaaaaaaaa');
    const two = principal({ rpmLimit: 1 }, 'bbbbbbbbbbbb');
    limiter.checkRequest(one, 0);
    limiter.checkRequest(two, 0);
    for (let index = 0; index < 1_000; index += 1) limiter.checkRequest(principal({}), 1_000_000);
    nowMs -= 30_000;
    expect(caught(() => limiter.checkRequest(one, 0)).retryAfterSeconds).toBeGreaterThanOrEqual(1);
    nowMs = 160_000;
    limiter.checkRequest(one, 0);
  });
});
