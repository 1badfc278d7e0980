export {
  openDatabase,
  migrationsFolder,
  serviceIdleTimeoutMs,
  type Backend,
  type Database,
  type DatabaseOptions,
  type Db,
  type Schema,
  type Tx,
} from './client';
export { acquireDataDirLock, type DataDirLock } from './data-dir-lock';
export { migrationState, type MigrationState } from './migration-state';
export * from './queries/audit';
export * from './queries/orgs';
export { executeRows } from './execute-rows';
export { pgErrorOf, type PgErrorInfo } from './pg-error';
export { pgArray } from './pg-array';
export { jsonRowsInserts } from './json-rows-insert';
export { stringifyJsonb } from './schema/columns';
export * from './queries/users';
export * from './queries/settlement-config';
export * from './queries/scoring-request';
export * from './queries/allowance-schedules';
export * from './queries/grant-bounds';
export * from './queries/judge-budgets';
export * from './queries/api-keys';
export * from './queries/owner-in-org';
export * from './queries/settlement-config-history';
export type { UsageScope } from './queries/usage-scope';
export * from './queries/usage';
export * from './queries/scores';
export * from './queries/settlement-context';
export * from './queries/settlements';
export * from './queries/outbox';
export * from './queries/reconcile';
export * from './queries/carbon-caps';
export * from './queries/carbon-report';
export * from './queries/carbon-raises';
export * from './queries/slack-deliveries';
export * from './queries/slack-digests';
export * from './queries/slack-raise-messages';
export * from './queries/slack-preferences';
export * from './queries/evidence-index';
export * from './queries/github-accounts';
export * from './queries/github-evidence';
export * from './queries/github-relay';
export * from './queries/experiments';
