import { invariant } from '@tokenwise/core';

export const healthCheckIntervalMsDefault = 2_000;
/** Upper bound of one check's default timeout, in milliseconds. */
export const healthCheckTimeoutMsDefault = 1_000;

export interface HealthTarget {
  /** Base URL; the check is GET `${url}/health`. */
  url: string;
  onResult(healthy: boolean): void;
}

export interface HealthChecker {
  /** Checks every target now (skipping those with a check in flight) and resolves when they answered. */
  checkNow(): Promise<void>;
  /** Stops the timer, aborts checks in flight and waits for them. */
  stop(): Promise<void>;
}

/**
 * Polls `GET <url>/health` of every target on one unref'd interval: a non-2xx answer, a network
 * error or no answer within `timeoutMs` reports unhealthy. At most one check per target is in flight.
 */
export function startHealthChecks(params: {
  targets: HealthTarget[];
  intervalMs: number;
  timeoutMs: number;
  fetch: typeof fetch;
  onRound(): void;
}): HealthChecker {
  invariant(params.intervalMs > 0 && params.timeoutMs > 0, 'health check interval and timeout must be positive');
  const stopping = new AbortController();
  const inFlight = new Map<HealthTarget, Promise<void>>();
  const checkOne = async (target: HealthTarget): Promise<void> => {
    let healthy = false;
    try {
      const response = await params.fetch(`${target.url}/health`, {
        signal: AbortSignal.any([stopping.signal, AbortSignal.timeout(params.timeoutMs)]),
      });
      await response.arrayBuffer();
      healthy = response.ok;
    } catch {
      // Refused, reset or timed out: all mean "do not send requests here", which is the result.
      healthy = false;
    }
    if (!stopping.signal.aborted) target.onResult(healthy);
  };
  const checkNow = async (): Promise<void> => {
    const round = params.targets.map((target) => {
      const running = inFlight.get(target);
      if (running !== undefined) return running;
      const check = checkOne(target).finally(() => inFlight.delete(target));
      inFlight.set(target, check);
      return check;
    });
    await Promise.all(round);
    if (!stopping.signal.aborted) params.onRound();
  };
  const timer = setInterval(() => void checkNow(), params.intervalMs);
  timer.unref();
  void checkNow();
  return {
    checkNow,
    stop: async () => {
      clearInterval(timer);
      stopping.abort();
      await Promise.all(inFlight.values());
    },
  };
}
