import { ConfigError } from '@tokenwise/core';
import { installTemporalRuntime } from '@tokenwise/workflows';
import { loadConfig, type Config } from '../config';
import { openServices, type Services } from '../services';
import { exitIfStuckAfterStop, Stack, type Log } from '../starters/stack';

const log: Log = (line) => process.stdout.write(`${line}\n`);

/** What one service needs from its command: the shared stack and services, and a signal that aborts startup on SIGTERM. */
export interface ServiceContext {
  config: Config;
  services: Services;
  stack: Stack;
  log: Log;
  signal: AbortSignal;
}

export interface ServiceSpec {
  /** The command's name, as in `tokenwise gateway`. */
  name: string;
  /** Settings this service cannot run without, checked before anything starts. */
  requires?: (config: Config) => string[];
  /** Starts the service; `running` (optional) settles when it stops on its own. */
  start(context: ServiceContext): Promise<{ running?: Promise<unknown> }>;
}

/** PGlite is one process's database: services that run as separate processes need a PostgreSQL server. */
function missingDatabaseMessage(name: string): string {
  return (
    `the ${name} service needs DATABASE_URL (a PostgreSQL server, e.g. postgres://tokenwise:secret@postgres:5432/tokenwise). ` +
    'Without it Tokenwise uses embedded PGlite, which cannot be shared between processes, so the gateway, worker and api services cannot run on it. ' +
    'To run everything in one process on PGlite, use `tokenwise dev` (npm start).'
  );
}

/** 0 when every part stopped cleanly, else 1 (each failure is already on stderr). */
async function stopAll(stack: Stack, name: string): Promise<number> {
  const failures = await stack.closeAll();
  if (failures === 0) return 0;
  process.stderr.write(`tokenwise ${name}: ${failures} part(s) did not stop cleanly.\n`);
  return 1;
}

/**
 * Runs one production service (gateway, worker, api) until SIGTERM or SIGINT, then stops what
 * it started, newest first, and returns 0. A signal during startup stops it too.
 */
export async function runService(spec: ServiceSpec): Promise<number> {
  const config = loadConfig();
  if (config.databaseUrl === undefined) throw new ConfigError(missingDatabaseMessage(spec.name));
  const missing = spec.requires?.(config) ?? [];
  if (missing.length > 0) throw new ConfigError(`the ${spec.name} service ${missing.join(' ')}`);
  installTemporalRuntime(process.env.TEMPORAL_LOG_LEVEL === 'INFO' ? 'INFO' : 'WARN');
  const stopping = new AbortController();
  const stop = (signal: NodeJS.Signals) => stopping.abort(new Error(`stopped by ${signal}`));
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  const stopped = new Promise<void>((resolve) =>
    stopping.signal.addEventListener('abort', () => resolve(), { once: true }),
  );
  const stack = new Stack();
  try {
    const services = await openServices(config);
    stack.push('database and ledger', () => services.close());
    log(`Database: ${services.database.backend} at ${services.database.location}, migrations applied.`);
    const { running } = await spec.start({ config, services, stack, log, signal: stopping.signal });
    log(`tokenwise ${spec.name} is running; SIGTERM or Ctrl-C stops it.`);
    await (running === undefined ? stopped : Promise.race([stopped, running]));
    log(`Stopping ${spec.name}...`);
    return await stopAll(stack, spec.name);
  } catch (error) {
    if (stopping.signal.aborted) {
      log(`Stopped ${spec.name} during startup (${(error as Error).message}).`);
      return await stopAll(stack, spec.name);
    }
    throw error;
  } finally {
    await stack.closeAll();
    process.off('SIGTERM', stop);
    process.off('SIGINT', stop);
    exitIfStuckAfterStop();
  }
}
