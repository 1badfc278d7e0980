import { Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import type { Log } from './stack';

/** Waits between attempts to reach a Temporal server that is not up yet. */
const connectRetryMs = 3_000;
/** Gives up after this many attempts (5 minutes): a supervisor's restart then shows the failure. */
const connectAttemptsMax = 100;

/** Resolves after `ms`, or rejects with the signal's reason when it aborts first. */
function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason as Error);
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason as Error);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Connects a client and a worker connection to Temporal, retrying while the server is not up yet
 * (a container starting beside it) with a log line per attempt, so a restart loop is never silent.
 */
export async function connectTemporal(options: { address: string; log: Log; signal?: AbortSignal; retryMs?: number; attemptsMax?: number }): Promise<{ connection: Connection; workerConnection: NativeConnection }> {
  const attemptsMax = options.attemptsMax ?? connectAttemptsMax;
  for (let attempt = 1; ; attempt++) {
    try {
      const connection = await Connection.connect({ address: options.address });
      try {
        return { connection, workerConnection: await NativeConnection.connect({ address: options.address }) };
      } catch (error) {
        await connection.close();
        throw error;
      }
    } catch (error) {
      const reason = (error as Error).message.split('\n')[0];
      if (attempt >= attemptsMax) throw new Error(`Temporal at ${options.address} is still unreachable after ${attempt} attempts: ${reason}`);
      const retryMs = options.retryMs ?? connectRetryMs;
      options.log(`Temporal at ${options.address} is not reachable yet (attempt ${attempt} of ${attemptsMax}: ${reason}); retrying in ${retryMs / 1000} s.`);
      await sleep(retryMs, options.signal);
    }
  }
}
