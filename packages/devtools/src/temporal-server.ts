import { Connection } from '@temporalio/client';
import { chmod, mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { spawnManaged, waitUntilReady } from './child-process';
import { freePort } from './free-port';

export interface TemporalDevServer {
  /** host:port of the frontend gRPC service. */
  readonly address: string;
  readonly namespace: string;
  /** URL of the web UI, when it was started with one. */
  readonly uiUrl: string | undefined;
  stop(): Promise<void>;
}

export interface TemporalDevServerOptions {
  cliPath: string;
  /** SQLite file that keeps workflows across restarts; in memory when omitted. */
  dbFilename?: string;
  port?: number;
  /** Starts the web UI on this port (0 = a free one); headless when undefined. */
  uiPort?: number;
  namespace?: string;
  /** More namespaces to create at start (tests that need one of their own, e.g. for fixed Schedule ids). */
  extraNamespaces?: readonly string[];
  /** The SDK's own helper waits only 5 s; a cold start on a loaded 2-core machine can take longer. */
  readyTimeoutMs?: number;
}

/** The SQLite database file and the journals beside it. */
const sqliteFileSuffixes = ['', '-wal', '-shm', '-journal'] as const;

async function namespaceReady(address: string, namespace: string): Promise<boolean> {
  const connection = await Connection.connect({ address, connectTimeout: 1_000 });
  try {
    await connection.workflowService.describeNamespace({ namespace });
    return true;
  } finally {
    await connection.close();
  }
}

/** SQLite journals take the database file's mode, so an older 0644 file is tightened with them. */
async function makeOwnerOnly(dbFilename: string): Promise<void> {
  for (const suffix of sqliteFileSuffixes) {
    await chmod(`${dbFilename}${suffix}`, 0o600).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'ENOENT') throw error;
    });
  }
}

/** Start-ups tried when a port picked as free was taken by another process before the server bound it. */
const portRaceAttemptsMax = 4;

/**
 * Starts `temporal server start-dev` on loopback ports and waits until its namespace answers. The
 * HTTP and metrics ports (and the gRPC port, unless given) are picked free just before the server
 * starts; on a busy machine another process can take one first, so a start-up that fails with
 * "address already in use" is tried again on new ports.
 */
export async function startTemporalDevServer(options: TemporalDevServerOptions): Promise<TemporalDevServer> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnce(options);
    } catch (error) {
      if (attempt >= portRaceAttemptsMax || !/address already in use/.test((error as Error).message)) throw error;
    }
  }
}

async function startOnce(options: TemporalDevServerOptions): Promise<TemporalDevServer> {
  const namespace = options.namespace ?? 'default';
  const port = options.port ?? (await freePort());
  const args = [
    'server',
    'start-dev',
    '--ip',
    '127.0.0.1',
    '--port',
    String(port),
    '--http-port',
    String(await freePort()),
    '--metrics-port',
    String(await freePort()),
    '--namespace',
    namespace,
    ...(options.extraNamespaces ?? []).flatMap((extra) => ['--namespace', extra]),
    '--log-level',
    'warn',
  ];
  let uiUrl: string | undefined;
  if (options.uiPort === undefined) {
    args.push('--headless');
  } else {
    const uiPort = options.uiPort === 0 ? await freePort() : options.uiPort;
    args.push('--ui-port', String(uiPort));
    uiUrl = `http://127.0.0.1:${uiPort}`;
  }
  if (options.dbFilename !== undefined) {
    await mkdir(dirname(options.dbFilename), { recursive: true, mode: 0o700 });
    args.push('--db-filename', options.dbFilename, '--sqlite-pragma', 'journal_mode=WAL');
  }
  // The server creates its SQLite file itself (an empty file made first is taken for a set-up
  // database); umask 077 makes it and its journals owner-only from the start.
  const server =
    options.dbFilename === undefined
      ? spawnManaged(options.cliPath, args)
      : spawnManaged('/bin/sh', ['-c', 'umask 077 && exec "$0" "$@"', options.cliPath, ...args]);
  const address = `127.0.0.1:${port}`;
  await waitUntilReady(
    'Temporal dev server',
    server,
    () => namespaceReady(address, namespace),
    options.readyTimeoutMs ?? 60_000,
  );
  if (options.dbFilename !== undefined) await makeOwnerOnly(options.dbFilename);
  return { address, namespace, uiUrl, stop: () => server.stop() };
}
