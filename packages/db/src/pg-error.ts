/** The SQLSTATE and message of a PostgreSQL error, from node-postgres or PGlite. */
export interface PgErrorInfo {
  code: string | undefined;
  message: string;
  constraint: string | undefined;
}

/**
 * drizzle wraps driver errors ("Failed query: ...") and keeps the server's error as `cause`;
 * this finds the server's error so callers can branch on SQLSTATE (23505 unique, 40P01 deadlock).
 */
export function pgErrorOf(error: unknown): PgErrorInfo | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current instanceof Error; depth++) {
    const candidate = current as Error & { code?: unknown; constraint?: unknown };
    if (typeof candidate.code === 'string' && /^[0-9A-Z]{5}$/.test(candidate.code)) {
      return {
        code: candidate.code,
        message: candidate.message,
        constraint: typeof candidate.constraint === 'string' ? candidate.constraint : undefined,
      };
    }
    current = candidate.cause;
  }
  return undefined;
}
