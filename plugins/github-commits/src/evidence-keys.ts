import { fingerprintCompletion, fingerprintHashes, type WinnowingOptions } from '@tokenwise/core';
import { evidenceKeysMax } from '@tokenwise/plugin-sdk';

/**
 * The keys a waiting request is indexed under (the host stores them from the pending answer), and
 * the same keys computed from a merged pull request: the relay looks the pull's keys up to find the
 * requests it may concern, never scanning Temporal. A fingerprint is `fp:<hash>`; a request id or a
 * session id named by a commit trailer is `request:<id>` / `session:<id>`.
 */
export const fingerprintKey = (hash: number): string => `fp:${hash}`;
export const requestKey = (requestId: string): string => `request:${requestId}`;
export const sessionKey = (sessionId: string): string => `session:${sessionId}`;

/** A completion's evidence keys: its request id, its session (if tagged) and its distinct fingerprints, within the host's bound. */
export function completionEvidenceKeys(params: {
  requestId: string;
  sessionId?: string | undefined;
  completion: string;
  winnowing: Partial<WinnowingOptions>;
}): string[] {
  const keys = [requestKey(params.requestId)];
  if (params.sessionId !== undefined && params.sessionId !== '') keys.push(sessionKey(params.sessionId));
  const hashes = fingerprintHashes(fingerprintCompletion(params.completion, params.winnowing));
  for (const hash of hashes) {
    if (keys.length >= evidenceKeysMax) break;
    keys.push(fingerprintKey(hash));
  }
  return keys;
}
