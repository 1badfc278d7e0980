/** Longest a looked-up key row is trusted: revocation, rotation and expiry reach every replica within this. */
export const cacheTtlMsMax = 1_000;
/** Unknown key ids are remembered this long, so a flood of the same bad key does not reach the database. */
export const negativeCacheTtlMs = 1_000;
/** Key rows cached per gateway process (a few hundred bytes each). */
export const positiveCacheEntriesMax = 50_000;
/** Keys reread in one query by the key store's background refresh. */
export const refreshBatchMax = 500;
/** Unknown key ids cached per gateway process. */
export const negativeCacheEntriesMax = 10_000;
/** Longest a rotated key keeps working beside its replacement: thirty days. */
export const overlapSecondsMax = 30 * 24 * 3600;
export const keyNameLengthMax = 100;
export const allowedModelsMax = 100;
export const modelNameLengthMax = 200;
export const requestLimitMax = 1_000_000_000;
/** Keys in one `listApiKeys` answer. */
export const listKeysMax = 1_000;
/** How long a key the server mints for its own calls (the judge's, a dry run's) lives: one day. */
export const runtimeKeyTtlSeconds = 24 * 3600;
/** A minted key is replaced this long before it expires, so no call starts on a key about to lapse. */
export const runtimeKeyRenewSeconds = 3600;
/** Minted keys remembered per process (one per org's judge, one per lead dry-running). */
export const runtimeKeysMax = 10_000;
/** Working (unrevoked, unexpired) keys a user may hold and still create one for themselves through the API. */
export const activeKeysPerUserMax = 100;
/** Passes of a cascading revocation; a second one only finds keys created while the first ran. */
export const cascadeRoundsMax = 8;
/** Audit rows written per statement when a cascade revokes many keys. */
export const cascadeAuditBatchMax = 500;
