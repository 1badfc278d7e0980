import { openDatabase, type Backend, type Database } from '@tokenwise/db';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, inject } from 'vitest';

export const backends: readonly Backend[] = ['pglite', 'postgres'];

/** A migrated database of its own: a fresh in-memory PGlite, or a fresh database on the real server. */
export async function openTestDatabase(backend: Backend): Promise<Database> {
  if (backend === 'pglite') {
    const database = await openDatabase();
    await database.migrate();
    return database;
  }
  const adminUrl = inject('postgresAdminUrl');
  const name = `tw_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    await admin.query(`create database ${name}`);
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
