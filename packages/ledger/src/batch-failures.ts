import { pgErrorOf } from '@tokenwise/db';

/**
 * True when the database (or the statement's own encoding) refused the batch for a value in it:
 * data exceptions (22: bad encoding, NUL), integrity (23, other than the seq race the locked retry
 * settles), program limits (54: nesting, sizes), or an encoder error before anything was sent.
 * Connection failures, deadlocks and serialisation failures are outages: retried, never split.
 */
export function refusesItsContent(error: unknown): boolean {
  const pg = pgErrorOf(error);
  if (pg?.code !== undefined) return /^(22|23|42|54)/.test(pg.code);
  return (
    error instanceof TypeError ||
    error instanceof RangeError ||
    (error instanceof Error && (error.name === 'ValidationError' || error.name === 'InvariantError'))
  );
}

/** Connection loss, server shutdown, resource exhaustion or lock conflicts: the database, not the batch. */
export function isOutage(error: unknown): boolean {
  const pg = pgErrorOf(error);
  if (pg?.code !== undefined) return /^(08|40|53|55|57|58)/.test(pg.code);
  const text =
    error instanceof Error
      ? `${(error as Error & { code?: unknown }).code ?? ''} ${error.message} ${String((error as Error & { cause?: unknown }).cause ?? '')}`
      : String(error);
  return /ECONN|EPIPE|ETIMEDOUT|connection|terminat|closed|timeout/i.test(text);
}
