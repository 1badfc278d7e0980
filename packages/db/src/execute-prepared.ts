import type { SQL } from 'drizzle-orm';
import { PgDialect } from 'drizzle-orm/pg-core';
import { dbCasing, type Db } from './client';

const dialect = new PgDialect({ casing: dbCasing });

/** Distinct statement texts given a name; past this, statements run unnamed (no connection keeps an unbounded set). */
export const preparedTextsMax = 64;
const names = new Map<string, string>();

/**
 * The name `query`'s text is prepared under, on each connection that runs it: `prefix` and a hash
 * of the text. Undefined once {@link preparedTextsMax} texts have names, so a caller whose text
 * varies without bound cannot grow every connection's prepared statements forever.
 */
export function preparedNameOf(prefix: string, text: string): string | undefined {
  const known = names.get(text);
  if (known !== undefined || names.size >= preparedTextsMax) return known;
  // FNV-1a over the UTF-16 code units, with the length: collisions among a few dozen texts are
  // negligible, and a collision would fail loudly (node-postgres refuses a name reused for another text).
  let hash = 0x811c9dc5;
  for (let index = 0; index < text.length; index++) hash = Math.imul(hash ^ text.charCodeAt(index), 0x01000193);
  const name = `${prefix}_${(hash >>> 0).toString(36)}_${text.length.toString(36)}`;
  names.set(text, name);
  return name;
}

/**
 * Runs a raw (still parameterised) drizzle `sql` statement as a named prepared statement: on a
 * PostgreSQL server each connection parses it once, and after its first runs plans it once
 * (PostgreSQL's generic plan, when it costs no more than the custom ones), instead of parsing and
 * planning it on every call. For statements of a fixed shape run many times a second (the ledger's
 * batch write: its text depends only on which parts a batch has, every value is an array parameter).
 * PGlite runs it as `execute` does.
 */
export async function executePrepared(db: Db, prefix: string, query: SQL): Promise<unknown> {
  const built = dialect.sqlToQuery(query);
  return db._.session.prepareQuery(built, undefined, preparedNameOf(prefix, built.sql), false).execute();
}
