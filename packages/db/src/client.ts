import { PGlite } from '@electric-sql/pglite';
import { ConfigError } from '@tokenwise/core';
import type { ExtractTablesWithRelations } from 'drizzle-orm';
import { drizzle as drizzleNodePg } from 'drizzle-orm/node-postgres';
import { migrate as migrateNodePg } from 'drizzle-orm/node-postgres/migrator';
import type { PgDatabase, PgQueryResultHKT, PgTransaction } from 'drizzle-orm/pg-core';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import { migrate as migratePglite } from 'drizzle-orm/pglite/migrator';
import { mkdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { acquireDataDirLock, type DataDirLock } from './data-dir-lock';
import * as schema from './schema/index';

export type Schema = typeof schema;
/** A database handle or a transaction: query functions accept either. */
export type Db = PgDatabase<PgQueryResultHKT, Schema>;
export type Tx = PgTransaction<PgQueryResultHKT, Schema, ExtractTablesWithRelations<Schema>>;
export type Backend = 'pglite' | 'postgres';

export const migrationsFolder = fileURLToPath(new URL('../migrations', import.meta.url));

/** Any fixed number works; it only has to be the same in every process that migrates. */
const migrationLockKey = 7_206_118_113;

export interface DatabaseOptions {
  /** postgres:// URL of a real server. */
  url?: string;
  /** PGlite data directory (embedded mode). With neither, an in-memory PGlite (tests). */
  dataDir?: string;
  /** In-memory PGlite only: start from this dump (`dumpDataDir`) instead of an empty cluster (tests' migrated template). */
  pgliteDump?: Blob;
  /** Connections in the node-postgres pool. */
  poolSize?: number;
  /**
   * How long an idle pooled connection stays open (node-postgres' default: 10 s). Services pass
   * {@link serviceIdleTimeoutMs}: after a quiet spell, the first requests then find their connections
   * open instead of waiting for new backends with cold caches. Idle connections never keep the
   * process alive.
   */
  idleTimeoutMs?: number;
}

export interface Database {
  readonly db: Db;
  readonly backend: Backend;
  /** Where the data lives, without credentials. */
  readonly location: string;
  /** Applies pending migrations; safe to call from several processes at once. */
  migrate(): Promise<void>;
  /** PGlite only: the whole cluster as a tarball, to start another in-memory PGlite from (tests' template). */
  dumpPglite?(): Promise<Blob>;
  close(): Promise<void>;
}

function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return 'postgres (unparseable URL)';
  }
}

/** Idle connections a long-running service keeps: five minutes. */
export const serviceIdleTimeoutMs = 300_000;

async function openPostgres(url: string, poolSize: number, idleTimeoutMs: number): Promise<Database> {
  if (!/^postgres(ql)?:\/\//.test(url)) {
    throw new ConfigError(`DATABASE_URL must start with postgres:// or postgresql://, got "${redactUrl(url)}".`);
  }
  const pool = new pg.Pool({
    connectionString: url,
    max: poolSize,
    idleTimeoutMillis: idleTimeoutMs,
    allowExitOnIdle: true,
  });
  // A client that loses its server (idle, or mid-transaction) must not crash the process with an
  // unhandled 'error' event: the query in flight rejects, and the pool replaces the client.
  pool.on('error', () => {});
  pool.on('connect', (client) => {
    client.on('error', () => {});
  });
  const db = drizzleNodePg(pool, { schema, casing: 'snake_case' });
  return {
    db,
    backend: 'postgres',
    location: redactUrl(url),
    async migrate() {
      // drizzle's migrator takes no lock: two processes starting together would both migrate.
      const client = await pool.connect();
      try {
        await client.query('select pg_advisory_lock($1)', [migrationLockKey]);
        try {
          await migrateNodePg(drizzleNodePg(client, { schema, casing: 'snake_case' }), { migrationsFolder });
        } finally {
          await client.query('select pg_advisory_unlock($1)', [migrationLockKey]);
        }
      } finally {
        client.release();
      }
    },
    close: () => pool.end(),
  };
}

async function openPglite(dataDir: string | undefined, dump: Blob | undefined): Promise<Database> {
  let lock: DataDirLock | undefined;
  if (dataDir !== undefined) {
    // Owner-only: PGlite creates its files 0666 whatever the umask, so the directory is what guards them.
    await mkdir(dataDir, { recursive: true, mode: 0o700 });
    lock = await acquireDataDirLock(dataDir);
  }
  try {
    const client = dump === undefined ? new PGlite(dataDir) : new PGlite({ loadDataDir: dump });
    await client.waitReady;
    const db = drizzlePglite(client, { schema, casing: 'snake_case' });
    return {
      db,
      backend: 'pglite',
      location: dataDir ?? 'in memory',
      migrate: () => migratePglite(db, { migrationsFolder }),
      dumpPglite: async () => client.dumpDataDir('none'),
      async close() {
        await client.close();
        await lock?.release();
      },
    };
  } catch (error) {
    await lock?.release();
    throw error;
  }
}

/** Opens node-postgres when `url` is given, else PGlite (on `dataDir`, or in memory). */
export function openDatabase(options: DatabaseOptions = {}): Promise<Database> {
  if (options.url !== undefined && options.url !== '')
    return openPostgres(options.url, options.poolSize ?? 10, options.idleTimeoutMs ?? 10_000);
  if (options.pgliteDump !== undefined && options.dataDir !== undefined)
    throw new ConfigError('pgliteDump starts an in-memory PGlite: leave dataDir out');
  return openPglite(options.dataDir, options.pgliteDump);
}
