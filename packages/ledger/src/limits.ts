/** Operations in one batch transaction; keeps every statement far below PostgreSQL's 65,535 parameters. */
export const batchOpsMax = 1_000;
/** Operations waiting for the writer before submitters are refused (back-pressure, not unbounded memory). */
export const queueOpsMax = 200_000;
/** Attempts of one batch when the database fails under it (connection lost, deadlock, unique race). */
export const batchAttemptsMax = 4;
export const transferIdLengthMax = 200;
export const userDataBytesMax = 2_048;
/** Longest hold: thirty days. */
export const pendingTimeoutSecondsMax = 30 * 24 * 3600;
export const historyPageSizeMax = 100;
/** Known account metadata kept in memory (it never changes once written). */
export const accountCacheEntriesMax = 100_000;
/** Rows an op may attach to its transaction (admission row, usage row, outbox row, ...). */
export const attachRowsMax = 4;
