export { cacheDir } from './cache-dir';
export { freePort } from './free-port';
export { findPostgresBinDir, postgresInstallHint, startPostgresServer, type PostgresServer } from './postgres-server';
export {
  ensureTemporalCli,
  ensureTemporalTestServer,
  ProvisionError,
  temporalCliVersion,
  type Log,
  type ResolvedBinary,
} from './provision';
export { startTemporalDevServer, type TemporalDevServer, type TemporalDevServerOptions } from './temporal-server';
export { bundleEntries } from './bundle';
export { runCommand, which } from './run-command';
