import {
  ensureTemporalCli,
  startPostgresServer,
  startTemporalDevServer,
  type PostgresServer,
} from '@tokenwise/devtools';
import { openDatabase } from '@tokenwise/db';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  export interface ProvidedContext {
    temporalAddress: string;
    temporalNamespace: string;
    /** A namespace of its own for the test that runs the service commands, whose worker creates the platform's fixed-id Schedules. */
    temporalServicesNamespace: string;
    /** Superuser URL of a real PostgreSQL server; each test file creates its own database. */
    postgresAdminUrl: string;
    /** A database on that server migrated once for the run: each test database is copied from it. */
    postgresTemplateDatabase: string;
    /** A migrated PGlite cluster dumped once for the run: each in-memory PGlite starts from it. */
    pgliteTemplatePath: string;
  }
}

const log = (line: string) => process.stderr.write(`[test setup] ${line}\n`);

/** Migrates a database of the run's own once; test databases are created from it as a template. */
async function createPostgresTemplate(adminUrl: string): Promise<string> {
  const name = `tw_template_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    await admin.query(`create database ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  const database = await openDatabase({ url: url.toString(), poolSize: 1 });
  try {
    await database.migrate();
  } finally {
    // A template must have no open connection while databases are copied from it.
    await database.close();
  }
  return name;
}

async function dropPostgresTemplate(adminUrl: string, name: string): Promise<void> {
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    await admin.query(`drop database if exists ${name} with (force)`);
  } finally {
    await admin.end();
  }
}

/** Migrates an in-memory PGlite once and dumps its cluster, so test processes skip initdb and the migrations. */
async function dumpMigratedPglite(): Promise<{ dir: string; path: string }> {
  const database = await openDatabase();
  try {
    await database.migrate();
    const dump = await database.dumpPglite!();
    const dir = await mkdtemp(join(tmpdir(), 'tw-pglite-template-'));
    const path = join(dir, 'migrated.tar');
    await writeFile(path, Buffer.from(await dump.arrayBuffer()));
    return { dir, path };
  } finally {
    await database.close();
  }
}

/**
 * Starts the real components once per run: the Temporal dev server (pinned CLI) and, unless
 * DATABASE_URL names one, a throwaway PostgreSQL server. PGlite needs no server.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const startPostgres = async (): Promise<{ url: string; server?: PostgresServer }> => {
    if (process.env.DATABASE_URL) return { url: process.env.DATABASE_URL };
    const server = await startPostgresServer();
    log(`PostgreSQL ${server.version} on ${new URL(server.url).host}`);
    return { url: server.url, server };
  };
  const servicesNamespace = 'tokenwise-services';
  const startTemporal = async () => {
    const cli = await ensureTemporalCli({ log });
    const server = await startTemporalDevServer({ cliPath: cli.path, extraNamespaces: [servicesNamespace] });
    log(`Temporal dev server (${cli.path}) on ${server.address}`);
    return server;
  };
  const [postgres, temporal, pgliteTemplate] = await Promise.allSettled([
    startPostgres().then(async (started) => ({ ...started, template: await createPostgresTemplate(started.url) })),
    startTemporal(),
    dumpMigratedPglite(),
  ]);
  if (postgres.status === 'rejected' || temporal.status === 'rejected' || pgliteTemplate.status === 'rejected') {
    if (postgres.status === 'fulfilled') await postgres.value.server?.stop();
    if (temporal.status === 'fulfilled') await temporal.value.stop();
    if (pgliteTemplate.status === 'fulfilled') await rm(pgliteTemplate.value.dir, { recursive: true, force: true });
    throw [postgres, temporal, pgliteTemplate].find((result) => result.status === 'rejected')!.reason;
  }
  project.provide('temporalAddress', temporal.value.address);
  project.provide('temporalNamespace', temporal.value.namespace);
  project.provide('temporalServicesNamespace', servicesNamespace);
  project.provide('postgresAdminUrl', postgres.value.url);
  project.provide('postgresTemplateDatabase', postgres.value.template);
  project.provide('pgliteTemplatePath', pgliteTemplate.value.path);
  return async () => {
    await Promise.all([
      temporal.value.stop(),
      postgres.value.server?.stop() ?? dropPostgresTemplate(postgres.value.url, postgres.value.template),
      rm(pgliteTemplate.value.dir, { recursive: true, force: true }),
    ]);
  };
}
