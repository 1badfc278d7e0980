/** The gateway's default longest request, queue wait included (its `requestTimeoutMs`). */
export const requestTimeoutMsDefault = 600_000;
/** The gateway's default stall after which a stream whose client reads nothing is cut (its `clientWriteStallMs`). */
export const clientWriteStallMsDefault = 30_000;

/**
 * A hold outlives the longest request the gateway allows, so it never lapses under a live
 * request; what is left after a crash is closed by reconciliation or by expiry.
 */
export function holdTimeoutSeconds(settings: { requestTimeoutMs: number; clientWriteStallMs: number }): number {
  return Math.ceil((settings.requestTimeoutMs * 2 + settings.clientWriteStallMs) / 1000) + 60;
}

/** How long a hold lives under the gateway's default settings: reconciliation waits at least this long. */
export const holdTimeoutSecondsDefault = holdTimeoutSeconds({
  requestTimeoutMs: requestTimeoutMsDefault,
  clientWriteStallMs: clientWriteStallMsDefault,
});
