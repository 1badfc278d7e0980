/** The last instant written, and its text. */
let last: { time: number; text: string } | undefined;

/**
 * `date.toISOString()`, remembered for the last instant asked (about half a microsecond each
 * otherwise): a batch's holds share one expiry, its time plus the one hold timeout, and each
 * expiry is written twice, in the row MAC and in the statement.
 */
export function isoTime(date: Date): string {
  const time = date.getTime();
  // An invalid date (NaN) never matches: toISOString then throws as it always does.
  if (last === undefined || last.time !== time) last = { time, text: date.toISOString() };
  return last.text;
}
