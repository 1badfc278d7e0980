import { chown, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import pg from 'pg';
import { spawnManaged, waitUntilReady } from './child-process';
import { freePort } from './free-port';
import { runCommand, which } from './run-command';
import { ProvisionError } from './provision';

export interface PostgresServer {
  /** Superuser URL of the `postgres` database; tests create their own databases through it. */
  readonly url: string;
  /** The same database over the server's Unix socket (no TCP stack), for clients on this host. */
  readonly socketUrl: string;
  readonly binDir: string;
  readonly version: string;
  stop(): Promise<void>;
}

async function hasServerBinaries(dir: string): Promise<boolean> {
  const names = new Set(await readdir(dir).catch(() => [] as string[]));
  return names.has('initdb') && names.has('postgres');
}

/**
 * Finds PostgreSQL's server binaries: $PG_BIN_DIR, then Debian's /usr/lib/postgresql/<version>/bin
 * (newest first; they are not on PATH), then `pg_config --bindir`, then `initdb` on PATH.
 */
export async function findPostgresBinDir(env: NodeJS.ProcessEnv = process.env): Promise<string | undefined> {
  if (env.PG_BIN_DIR) return (await hasServerBinaries(env.PG_BIN_DIR)) ? env.PG_BIN_DIR : undefined;
  const versions = (await readdir('/usr/lib/postgresql').catch(() => [] as string[]))
    .filter((name) => /^\d+$/.test(name))
    .sort((a, b) => Number(b) - Number(a));
  for (const version of versions) {
    const dir = join('/usr/lib/postgresql', version, 'bin');
    if (await hasServerBinaries(dir)) return dir;
  }
  const pgConfig = await which('pg_config');
  if (pgConfig !== undefined) {
    const result = await runCommand(pgConfig, ['--bindir']);
    const dir = result.stdout.trim();
    if (result.code === 0 && (await hasServerBinaries(dir))) return dir;
  }
  const initdb = await which('initdb');
  if (initdb !== undefined && (await hasServerBinaries(dirname(initdb)))) return dirname(initdb);
  return undefined;
}

export const postgresInstallHint =
  'PostgreSQL server binaries were not found. Install them (Debian/Ubuntu: `apt-get install -y postgresql`), ' +
  'set PG_BIN_DIR to the directory holding initdb and postgres, or set DATABASE_URL to a server you run.';

/** initdb refuses to run as root: as root, run the server as `postgres` (or `nobody`). */
async function serviceUser(): Promise<{ uid: number; gid: number } | undefined> {
  if (process.getuid?.() !== 0) return undefined;
  const passwd = await readFile('/etc/passwd', 'utf8');
  for (const name of ['postgres', 'nobody']) {
    const line = passwd.split('\n').find((entry) => entry.startsWith(`${name}:`));
    const [, , uid, gid] = line?.split(':') ?? [];
    if (uid !== undefined && gid !== undefined) return { uid: Number(uid), gid: Number(gid) };
  }
  throw new ProvisionError('Running as root and no `postgres` or `nobody` user exists to run PostgreSQL as.');
}

async function canQuery(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 1_000 });
  await client.connect();
  try {
    await client.query('select 1');
    return true;
  } finally {
    await client.end();
  }
}

/** One WAL segment (PostgreSQL's default `--wal-segsize`). */
const walSegmentMb = 16;

/**
 * Makes `segments` WAL segments ready to recycle, as on a server that has run a while: a fresh
 * cluster creates (zero-fills and fsyncs) each new segment, and the commit that crosses into it
 * waits 15-50 ms (wait event WALInitSync), about once per 16 MB of WAL. After this and a
 * checkpoint, the server recycles the old segments instead, as long as `min_wal_size` keeps them.
 */
async function recycleWal(url: string, segments: number): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query('create table devtools_wal_warm_up (n int)');
    for (let index = 0; index < segments; index++) {
      await client.query('insert into devtools_wal_warm_up values ($1)', [index]);
      await client.query('select pg_switch_wal()');
    }
    await client.query('drop table devtools_wal_warm_up');
    await client.query('checkpoint');
  } finally {
    await client.end();
  }
}

/**
 * Starts a throwaway PostgreSQL server in a fresh temp directory on a free loopback port, with
 * fsync on as in production, and removes everything on stop. `warmWalMb`: that much WAL is made
 * ready to recycle before the server is handed over (benchmarks measure a server that has run a
 * while), with `min_wal_size` raised to keep it and `max_wal_size` to twice that.
 */
export async function startPostgresServer(
  options: { env?: NodeJS.ProcessEnv; settings?: Record<string, string>; warmWalMb?: number } = {},
): Promise<PostgresServer> {
  const binDir = await findPostgresBinDir(options.env);
  if (binDir === undefined) throw new ProvisionError(postgresInstallHint);
  const user = await serviceUser();
  const root = await mkdtemp(join(tmpdir(), 'tokenwise-pg-'));
  const dataDir = join(root, 'data');
  if (user !== undefined) await chown(root, user.uid, user.gid);
  const asUser = user === undefined ? {} : { uid: user.uid, gid: user.gid };
  const initdb = await runCommand(
    join(binDir, 'initdb'),
    ['-D', dataDir, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--no-locale', '--no-sync'],
    asUser,
  );
  if (initdb.code !== 0) {
    await rm(root, { recursive: true, force: true });
    throw new ProvisionError(`initdb failed:\n${initdb.stderr || initdb.stdout}`);
  }
  const port = await freePort();
  const settings = {
    fsync: 'on',
    max_connections: '300',
    listen_addresses: '127.0.0.1',
    unix_socket_directories: root,
    ...(options.warmWalMb === undefined
      ? {}
      : { min_wal_size: `${options.warmWalMb}MB`, max_wal_size: `${2 * options.warmWalMb}MB` }),
    ...options.settings,
  };
  const args = [
    '-D',
    dataDir,
    '-p',
    String(port),
    ...Object.entries(settings).flatMap(([key, value]) => ['-c', `${key}=${value}`]),
  ];
  const server = spawnManaged(join(binDir, 'postgres'), args, asUser);
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  try {
    await waitUntilReady('PostgreSQL', server, () => canQuery(url), 60_000);
  } catch (error) {
    await rm(root, { recursive: true, force: true });
    throw error;
  }
  const version = (await runCommand(join(binDir, 'postgres'), ['--version'])).stdout.trim();
  if (options.warmWalMb !== undefined) {
    try {
      await recycleWal(url, Math.ceil(options.warmWalMb / walSegmentMb));
    } catch (error) {
      await server.stop();
      await rm(root, { recursive: true, force: true });
      throw error;
    }
  }
  return {
    url,
    socketUrl: `postgres://postgres@localhost/postgres?host=${encodeURIComponent(root)}&port=${port}`,
    binDir,
    version,
    async stop() {
      await server.stop();
      await rm(root, { recursive: true, force: true });
    },
  };
}
