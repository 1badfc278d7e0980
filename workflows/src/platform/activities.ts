import type { Amount } from '@tokenwise/core';
import { migrationState, type Database } from '@tokenwise/db';

/** Activities of the platform health check; dependencies are injected so tests can pass their own. */
export function createPlatformActivities(deps: { database: Database }) {
  return {
    async databaseStatus(input: { amount: Amount }) {
      const state = await migrationState(deps.database.db);
      return {
        amount: input.amount,
        backend: deps.database.backend,
        migrationsApplied: state.applied,
        migrationsPending: state.pending,
      };
    },
  };
}
