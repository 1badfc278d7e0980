/** The fetch a plugin gets: the standard signature, always bounded by a timeout. */
export type FetchFn = (input: string | URL | Request, init?: RequestInit) => Promise<Response>;

/** Thrown when a request through a timed fetch did not answer in time. */
export class FetchTimeoutError extends Error {
  override readonly name = 'FetchTimeoutError';
  readonly code = 'FETCH_TIMEOUT' as const;
}

/** Wraps fetch so every call aborts after `timeoutMs` (and when `signal` aborts), with an error that names the URL. */
export function withTimeout(fetchImpl: FetchFn, timeoutMs: number, signal?: AbortSignal): FetchFn {
  if (!Number.isInteger(timeoutMs) || timeoutMs < 1)
    throw new RangeError(`timeoutMs must be a positive integer, got ${timeoutMs}.`);
  return async function timedFetch(input, init) {
    const timeout = AbortSignal.timeout(timeoutMs);
    const signals = [timeout, init?.signal, signal].filter((s): s is AbortSignal => s !== undefined && s !== null);
    try {
      return await fetchImpl(input, { ...init, signal: AbortSignal.any(signals) });
    } catch (error) {
      if (timeout.aborted)
        throw new FetchTimeoutError(`${describeTarget(input)} did not answer within ${timeoutMs} ms.`, {
          cause: error,
        });
      throw error;
    }
  };
}

function describeTarget(input: string | URL | Request): string {
  const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
  // Never echo credentials or query strings into logs.
  try {
    const parsed = new URL(url);
    return `${parsed.origin}${parsed.pathname}`;
  } catch {
    return 'the request';
  }
}
