/** A relay from outbox rows to Temporal, running in the background. */
export interface OutboxRelay {
  /** One pass: hands undelivered rows to Temporal; returns how many rows it handled. */
  runOnce(): Promise<number>;
  stop(): Promise<void>;
}

/** Longest pause between passes while Temporal or the database is unavailable. */
const relayBackoffMsMax = 30_000;

/**
 * Runs `runOnce` until stopped: again at once while it handles full batches, every `intervalMs`
 * otherwise, backing off while it fails (logging the first failure and every 20th).
 */
export function startRelayLoop(params: {
  runOnce: () => Promise<number>;
  batchMax: number;
  intervalMs: number;
  log: (line: string) => void;
}): OutboxRelay {
  let stopped = false;
  let failures = 0;
  const tick = async () => {
    while (!stopped) {
      let handled = 0;
      try {
        handled = await params.runOnce();
        failures = 0;
      } catch (error) {
        failures++;
        if (failures === 1 || failures % 20 === 0)
          params.log(
            `Temporal or the database is unavailable (${(error as Error).message}); outbox rows wait and are retried.`,
          );
      }
      if (handled >= params.batchMax) continue;
      const backoffMs =
        failures === 0
          ? params.intervalMs
          : Math.min(params.intervalMs * 2 ** Math.min(failures, 6), relayBackoffMsMax);
      await new Promise((resolve) => setTimeout(resolve, backoffMs));
    }
  };
  const running = tick();
  return {
    runOnce: params.runOnce,
    async stop() {
      stopped = true;
      await running;
    },
  };
}
