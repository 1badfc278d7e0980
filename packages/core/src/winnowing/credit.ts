import { ValidationError } from '../errors';

/** One request's claim on merged lines. */
export interface RequestLineMatches {
  readonly requestId: string;
  /** When the request was made, in milliseconds since the epoch. */
  readonly requestedAtMs: number;
  /** Keys of the merged lines its completion matched (see `mergedLineKey`). */
  readonly lines: Iterable<string>;
}

/** Limit on the requests credited in one call, so one merge cannot make the work unbounded. */
export const creditRequestsMax = 100_000;

/** The key of a merged line: its repository path and new-file line number. */
export function mergedLineKey(path: string, line: number): string {
  return `${path}:${line}`;
}

/**
 * Credits each merged line to at most one request: the earliest that matched it; on equal times
 * the smaller request id (compared by UTF-16 code units, the same in every locale). Returns
 * line key -> requestId. The same input gives the same answer whatever its order.
 */
export function creditLinesToEarliest(requests: readonly RequestLineMatches[]): Map<string, string> {
  if (requests.length > creditRequestsMax) {
    throw new ValidationError(
      `${requests.length} requests to credit; at most ${creditRequestsMax} (creditRequestsMax) per call.`,
    );
  }
  const seen = new Set<string>();
  for (const { requestId, requestedAtMs } of requests) {
    if (!Number.isFinite(requestedAtMs)) {
      throw new ValidationError(
        `Request ${requestId} has requestedAtMs ${requestedAtMs}; give milliseconds since the epoch.`,
      );
    }
    if (seen.has(requestId)) {
      throw new ValidationError(`Request ${requestId} appears twice; merge its lines into one entry.`);
    }
    seen.add(requestId);
  }
  const ordered = [...requests].sort(
    (a, b) => a.requestedAtMs - b.requestedAtMs || compareCodeUnits(a.requestId, b.requestId),
  );
  const credit = new Map<string, string>();
  for (const request of ordered) {
    for (const line of request.lines) if (!credit.has(line)) credit.set(line, request.requestId);
  }
  return credit;
}

function compareCodeUnits(a: string, b: string): number {
  if (a === b) return 0;
  return a < b ? -1 : 1;
}
