import {
  ensureTemporalCli,
  startPostgresServer,
  startTemporalDevServer,
  type PostgresServer,
} from '@tokenwise/devtools';
import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  export interface ProvidedContext {
    temporalAddress: string;
    temporalNamespace: string;
    /** A namespace of its own for the test that runs the service commands, whose worker creates the platform's fixed-id Schedules. */
    temporalServicesNamespace: string;
    /** Superuser URL of a real PostgreSQL server; each test file creates its own database. */
    postgresAdminUrl: string;
  }
}

const log = (line: string) => process.stderr.write(`[test setup] ${line}\n`);

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
  const [postgres, temporal] = await Promise.allSettled([startPostgres(), startTemporal()]);
  if (postgres.status === 'rejected' || temporal.status === 'rejected') {
    if (postgres.status === 'fulfilled') await postgres.value.server?.stop();
    if (temporal.status === 'fulfilled') await temporal.value.stop();
    throw postgres.status === 'rejected' ? postgres.reason : (temporal as PromiseRejectedResult).reason;
  }
  project.provide('temporalAddress', temporal.value.address);
  project.provide('temporalNamespace', temporal.value.namespace);
  project.provide('temporalServicesNamespace', servicesNamespace);
  project.provide('postgresAdminUrl', postgres.value.url);
  return async () => {
    await Promise.all([temporal.value.stop(), postgres.value.server?.stop()]);
  };
}
