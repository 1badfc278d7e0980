import { Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import type { Log } from './stack';

/** Waits between attempts to reach a Temporal server that is not up yet. */
const connectRetryMs = 3_000;
/** One attempt's deadline (the client's default is 10 s), so the first retry line comes early. */
const connectAttemptMsMax = 2_000;
/** Gives up after this many attempts (at most 5 minutes): a supervisor's restart then shows the failure. */
const connectAttemptsMax = 60;

/** The promise's outcome, or a rejection with the signal's reason when it aborts first. */
function abortable<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (signal === undefined) return promise;
  return new Promise<T>((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason as Error);
    const onAbort = () => reject(signal.reason as Error);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

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

async function connectBoth(address: string): Promise<{ connection: Connection; workerConnection: NativeConnection }> {
  const connection = await Connection.connect({ address, connectTimeout: connectAttemptMsMax });
  try {
    return { connection, workerConnection: await NativeConnection.connect({ address }) };
  } catch (error) {
    await connection.close();
    throw error;
  }
}

/**
 * Connects a client and a worker connection to Temporal, retrying while the server is not up yet
 * (a container starting beside it) with a log line per attempt, so a restart loop is never silent.
 */
export async function connectTemporal(options: {
  address: string;
  log: Log;
  signal?: AbortSignal;
  retryMs?: number;
  attemptsMax?: number;
}): Promise<{ connection: Connection; workerConnection: NativeConnection }> {
  const attemptsMax = options.attemptsMax ?? connectAttemptsMax;
  for (let attempt = 1; ; attempt++) {
    const connecting = connectBoth(options.address);
    try {
      return await abortable(connecting, options.signal);
    } catch (error) {
      if (options.signal?.aborted) {
        // Stopped mid-attempt: close what the attempt still opens; its failure is moot, the process is stopping.
        connecting
          .then(({ connection, workerConnection }) => Promise.all([connection.close(), workerConnection.close()]))
          .catch(() => {});
        throw error;
      }
      const reason = (error as Error).message.split('\n')[0];
      if (attempt >= attemptsMax)
        throw new Error(`Temporal at ${options.address} is still unreachable after ${attempt} attempts: ${reason}`);
      const retryMs = options.retryMs ?? connectRetryMs;
      options.log(
        `Temporal at ${options.address} is not reachable yet (attempt ${attempt} of ${attemptsMax}: ${reason}); retrying in ${retryMs / 1000} s.`,
      );
      await sleep(retryMs, options.signal);
    }
  }
}
