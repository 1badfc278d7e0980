import { openDatabase, type Backend, type Database } from '@tokenwise/db';
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import pg from 'pg';
import { afterAll, beforeAll, describe, inject } from 'vitest';

export const backends: readonly Backend[] = ['pglite', 'postgres'];

let pgliteDump: Promise<Blob> | undefined;

/** The run's migrated PGlite cluster, dumped once by the global setup; read once per test process. */
function migratedPgliteDump(path: string): Promise<Blob> {
  pgliteDump ??= readFile(path).then((bytes) => new Blob([bytes]));
  return pgliteDump;
}

/**
 * A migrated database of its own: an in-memory PGlite, or a fresh database on the real server.
 * Both start from the run's migrated template when the global setup made one (loading a dump skips
 * PGlite's initdb, copying a template skips the migrations), so opening one costs a fraction of
 * migrating from scratch; `migrate()` still runs and finds nothing to do.
 */
export async function openTestDatabase(backend: Backend): Promise<Database> {
  if (backend === 'pglite') {
    const dumpPath = inject('pgliteTemplatePath');
    const dump = dumpPath === undefined || dumpPath === '' ? undefined : await migratedPgliteDump(dumpPath);
    const database = await openDatabase(dump === undefined ? {} : { pgliteDump: dump });
    await database.migrate();
    return database;
  }
  const adminUrl = inject('postgresAdminUrl');
  const template = inject('postgresTemplateDatabase');
  const name = `tw_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    // Both names are ours: a fixed prefix and hex, never input.
    await admin.query(
      template === undefined || template === ''
        ? `create database ${name}`
        : `create database ${name} template ${template}`,
    );
  } finally {
    await admin.end();
  }
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  const database = await openDatabase({ url: url.toString(), poolSize: 20 });
  await database.migrate();
  return {
    ...database,
    async close() {
      await database.close();
      const dropper = new pg.Client({ connectionString: adminUrl });
      await dropper.connect();
      try {
        await dropper.query(`drop database if exists ${name} with (force)`);
      } finally {
        await dropper.end();
      }
    },
  };
}

/**
 * Runs the same suite against PGlite and a real PostgreSQL server, each with a fresh migrated
 * database for the file. `db()` returns the open database inside tests.
 */
export function describeEachBackend(title: string, suite: (db: () => Database, backend: Backend) => void): void {
  describe.each(backends)(`${title} [%s]`, (backend) => {
    let database: Database | undefined;
    beforeAll(async () => {
      database = await openTestDatabase(backend);
    });
    afterAll(async () => {
      await database?.close();
    });
    suite(() => {
      if (database === undefined) throw new Error('database not open yet: use db() inside a test or hook');
      return database;
    }, backend);
  });
}
