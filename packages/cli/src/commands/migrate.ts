import { ConflictError } from '@tokenwise/core';
import { migrationState } from '@tokenwise/db';
import { loadConfig } from '../config';
import { openPrivateDatabase } from '../local/open-private-database';

/** `tokenwise migrate`: applies pending migrations and prints the resulting state. */
export async function runMigrate(): Promise<number> {
  const config = loadConfig();
  let database;
  try {
    database = await openPrivateDatabase(config);
  } catch (error) {
    if (error instanceof ConflictError) {
      process.stdout.write(
        `The platform is running on ${config.pgliteDir} and applied every migration when it started; nothing to do.\n`,
      );
      return 0;
    }
    throw error;
  }
  try {
    const before = await migrationState(database.db);
    await database.migrate();
    const after = await migrationState(database.db);
    const applied = before.pending.filter((tag) => !after.pending.includes(tag));
    process.stdout.write(
      applied.length === 0
        ? `Database (${database.backend}, ${database.location}) is up to date: ${after.applied} migrations applied.\n`
        : `Applied ${applied.length} migration(s) to ${database.backend} (${database.location}): ${applied.join(', ')}.\n`,
    );
    return 0;
  } finally {
    await database.close();
  }
}
