import type { SQL } from 'drizzle-orm';
import type { Db } from './client';

/**
 * Runs a raw (still parameterised) drizzle `sql` query and returns its rows. node-postgres and
 * PGlite both answer with `{ rows }`, but drizzle's common type leaves the result unknown.
 */
export async function executeRows<T extends Record<string, unknown>>(db: Db, query: SQL): Promise<T[]> {
  const result = (await db.execute(query)) as unknown as { rows: T[] };
  return result.rows;
}
