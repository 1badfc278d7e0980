import { ConfigError, UnauthenticatedError } from '@tokenwise/core';
import { BoundedTtlCache } from './bounded-ttl-cache';
import { findKeyForAuthentication, findKeysForAuthentication } from './api-keys';
import { parseKey, pepperBytesMin, secretMatches } from './key-format';
import {
  cacheTtlMsMax,
  negativeCacheEntriesMax,
  negativeCacheTtlMs,
  positiveCacheEntriesMax,
  refreshBatchMax,
} from './limits';
import type { KeyStore, KeyStoreDeps, Principal } from './types';

/** A key row as authentication needs it, cached per process for at most `cacheTtlMs`. */
interface KnownKey {
  principal: Principal;
  secretHmac: Buffer;
  expiresAt: Date | null;
  revokedAt: Date | null;
  replacedBy: string | null;
}

/** Longer headers are refused before any parsing: a key is 59 characters. */
const authorizationLengthMax = 512;
const bearerPattern = /^Bearer +(\S+)$/i;

/** Missing header, not Bearer, malformed: refused without touching the database. Never echoes the header. */
export function parseAuthorization(authorization: string | undefined): { id: string; secret: string } {
  const header = authorization?.trim() ?? '';
  if (header === '')
    throw new UnauthenticatedError(
      'Missing Authorization header: send `Authorization: Bearer tw_...` with your Tokenwise API key.',
    );
  const token = header.length > authorizationLengthMax ? undefined : bearerPattern.exec(header)?.[1];
  if (token === undefined)
    throw new UnauthenticatedError(
      'The Authorization header is not a Bearer token: send `Authorization: Bearer tw_...` with your Tokenwise API key.',
    );
  const key = parseKey(token);
  if (key === undefined)
    throw new UnauthenticatedError(
      'Malformed API key: expected tw_<12-character id>_<43-character secret>; check that the whole key was copied.',
    );
  return key;
}

/*
 * Unknown id and wrong secret share one message on purpose: a caller without the secret learns
 * nothing about a key, not even that its id exists. For the same reason the secret is checked
 * before revocation and expiry, so only the key's holder is told that it was revoked or expired.
 */
function unknownOrWrongSecret(id: string): UnauthenticatedError {
  return new UnauthenticatedError(
    `Unknown API key or wrong secret (key id ${id}): check that the key was copied whole, or ask an admin for a new one.`,
    { keyId: id },
  );
}

function toKnownKey(row: Awaited<ReturnType<typeof findKeysForAuthentication>>[number]): KnownKey {
  const principal: Principal = Object.freeze({
    keyId: row.id,
    orgId: row.orgId,
    userId: row.userId,
    teamId: row.userId === null ? null : row.teamId,
    systemOwner: row.systemOwner,
    scopes: Object.freeze([...row.scopes]),
    allowedModels: row.allowedModels === null ? null : Object.freeze([...row.allowedModels]),
    rpmLimit: row.rpmLimit,
    tpmLimit: row.tpmLimit,
    carbonAwareRouting: row.carbonAwareRouting,
  });
  return {
    principal,
    secretHmac: Buffer.from(row.secretHmac, 'hex'),
    expiresAt: row.expiresAt,
    revokedAt: row.revokedAt,
    replacedBy: row.replacedBy,
  };
}

function admit(key: KnownKey, secret: string, pepper: Buffer, now: Date): Principal {
  const id = key.principal.keyId;
  if (!secretMatches(pepper, secret, key.secretHmac)) throw unknownOrWrongSecret(id);
  if (key.revokedAt !== null)
    throw new UnauthenticatedError(
      `API key ${id} was revoked at ${key.revokedAt.toISOString()}: ask an admin for a new key.`,
      { keyId: id },
    );
  if (key.expiresAt !== null && key.expiresAt.getTime() <= now.getTime()) {
    const hint =
      key.replacedBy === null
        ? 'ask an admin for a new key'
        : `it was rotated: use its replacement (key id ${key.replacedBy})`;
    throw new UnauthenticatedError(`API key ${id} expired at ${key.expiresAt.toISOString()}: ${hint}.`, { keyId: id });
  }
  return key.principal;
}

/**
 * Authenticates API keys against the database with a short per-process cache. A row is trusted for
 * at most `cacheTtlMs` (<= 1 s) from when it was read, so revocation, rotation and expiry reach
 * every gateway replica within a second without any messaging between them. Every request still
 * checks its secret against the stored HMAC (one HMAC-SHA-256, about 2 µs).
 *
 * A key in use is reread in the background once its row is half that old, many keys to a query, so
 * a request waits on the database only for a key it has not used within the last `cacheTtlMs` (or
 * when the database is too slow to answer in half of it).
 */
export function createKeyStore(deps: KeyStoreDeps): KeyStore {
  const clock = deps.clock ?? (() => new Date());
  const cacheTtlMs = deps.cacheTtlMs ?? cacheTtlMsMax;
  if (!Number.isInteger(cacheTtlMs) || cacheTtlMs < 0 || cacheTtlMs > cacheTtlMsMax) {
    throw new ConfigError(
      `cacheTtlMs must be a whole number from 0 to ${cacheTtlMsMax}: a longer cache would let a revoked key work for more than a second.`,
    );
  }
  if (deps.pepper.length < pepperBytesMin)
    throw new ConfigError(`The key pepper must be at least ${pepperBytesMin} bytes.`);
  const known = new BoundedTtlCache<KnownKey>(cacheTtlMs, positiveCacheEntriesMax);
  const unknown = new BoundedTtlCache<true>(Math.min(negativeCacheTtlMs, cacheTtlMs), negativeCacheEntriesMax);
  // Concurrent requests with the same key share one database read.
  const loading = new Map<string, Promise<KnownKey | undefined>>();
  let closed = false;
  const refreshAfterMs = cacheTtlMs / 2;
  // Rereads wait this long to share a query with other keys coming due, well within the other half.
  const refreshGatherMs = Math.max(1, Math.floor(cacheTtlMs / 10));
  const refreshing = new Set<string>();
  let refreshQueue: string[] = [];
  let refreshTimer: NodeJS.Timeout | undefined;

  async function refresh(): Promise<void> {
    refreshTimer = undefined;
    const ids = refreshQueue;
    refreshQueue = [];
    for (let start = 0; start < ids.length && !closed; start += refreshBatchMax) {
      const batch = ids.slice(start, start + refreshBatchMax);
      const readAtMs = clock().getTime();
      try {
        const rows = await findKeysForAuthentication(deps.db, { keyIds: batch });
        if (closed) return;
        const found = new Set<string>();
        for (const row of rows) {
          found.add(row.id);
          known.set(row.id, toKnownKey(row), readAtMs);
        }
        for (const id of batch) if (!found.has(id)) known.delete(id);
      } catch {
        // The rows age out as usual and the next request for each key reads it itself.
      } finally {
        for (const id of batch) refreshing.delete(id);
      }
    }
  }

  function refreshSoon(id: string): void {
    if (closed || refreshing.has(id)) return;
    refreshing.add(id);
    refreshQueue.push(id);
    if (refreshTimer === undefined) {
      refreshTimer = setTimeout(() => void refresh(), refreshGatherMs);
      refreshTimer.unref();
    }
  }

  async function read(id: string): Promise<KnownKey | undefined> {
    const readAtMs = clock().getTime();
    const row = await findKeyForAuthentication(deps.db, { keyId: id });
    if (row === undefined) {
      unknown.set(id, true, readAtMs);
      return undefined;
    }
    const key = toKnownKey(row);
    known.set(id, key, readAtMs);
    return key;
  }

  function load(id: string): Promise<KnownKey | undefined> {
    let pending = loading.get(id);
    if (pending === undefined) {
      pending = read(id).finally(() => loading.delete(id));
      loading.set(id, pending);
    }
    return pending;
  }

  return {
    async authenticate(authorization) {
      if (closed) throw new Error('the key store is closed');
      const { id, secret } = parseAuthorization(authorization);
      const now = clock();
      const nowMs = now.getTime();
      const cached = known.getWithAge(id, nowMs);
      let key = cached?.value;
      if (cached !== undefined && cached.ageMs >= refreshAfterMs) refreshSoon(id);
      if (key === undefined) {
        if (unknown.get(id, nowMs) === true) throw unknownOrWrongSecret(id);
        key = await load(id);
        if (key === undefined) throw unknownOrWrongSecret(id);
      }
      return admit(key, secret, deps.pepper, now);
    },
    close() {
      closed = true;
      clearTimeout(refreshTimer);
      known.clear();
      unknown.clear();
    },
  };
}
