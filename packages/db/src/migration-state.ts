import { sql } from 'drizzle-orm';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Db } from './client';
import { migrationsFolder } from './client';
import { executeRows } from './execute-rows';

export interface MigrationState {
  available: string[];
  applied: number;
  pending: string[];
}

interface Journal {
  entries: { idx: number; tag: string; when: number }[];
}

/** Which generated migrations the database has applied (drizzle records each by its timestamp). */
export async function migrationState(db: Db): Promise<MigrationState> {
  const journal = JSON.parse(await readFile(join(migrationsFolder, 'meta', '_journal.json'), 'utf8')) as Journal;
  const [exists] = await executeRows<{ present: boolean }>(
    db,
    sql`select to_regclass('drizzle.__drizzle_migrations') is not null as present`,
  );
  const appliedAt = new Set<number>();
  if (exists?.present) {
    const rows = await executeRows<{ created_at: string | number | bigint }>(
      db,
      sql`select created_at from drizzle.__drizzle_migrations`,
    );
    for (const row of rows) appliedAt.add(Number(row.created_at));
  }
  const pending = journal.entries.filter((entry) => !appliedAt.has(entry.when)).map((entry) => entry.tag);
  return {
    available: journal.entries.map((entry) => entry.tag),
    applied: journal.entries.length - pending.length,
    pending,
  };
}
