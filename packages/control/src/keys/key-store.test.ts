import { UnauthenticatedError, type DomainError } from '@tokenwise/core';
import { describeEachBackend } from '@tokenwise/db/testing';
import { apiKeys } from '@tokenwise/db/schema';
import { beforeAll, expect, it } from 'vitest';
import { createApiKey, revokeApiKey, rotateApiKey } from './api-keys';
import { formatKey, newKeyId, newKeySecret, secretHmac } from './key-format';
import { createKeyStore } from './key-store';
import { bearer, orgWithUser, testPepper } from './test-fixtures';
import type { KeyStore } from './types';

/** The refusal of `authorization`, checked to be an UnauthenticatedError that does not echo `secret`. */
async function refusal(store: KeyStore, authorization: string | undefined, secret?: string): Promise<string> {
  const error = (await store.authenticate(authorization).then(
    () => undefined,
    (caught: unknown) => caught,
  )) as DomainError | undefined;
  expect(error).toBeInstanceOf(UnauthenticatedError);
  const message = error?.message ?? '';
  if (secret !== undefined) {
    const secretPart = secret.split('_')[2] ?? secret;
    expect(message).not.toContain(secretPart);
    expect(JSON.stringify(error?.details)).not.toContain(secretPart);
  }
  return message;
}

describeEachBackend('API key authentication', (database) => {
  let now = new Date('2026-11-26T12:00:00Z');
  const clock = () => now;
  const advance = (ms: number) => {
    now = new Date(now.getTime() + ms);
  };
  let fixture: Awaited<ReturnType<typeof orgWithUser>>;
  let store: KeyStore;
  beforeAll(async () => {
    fixture = await orgWithUser(database().db);
    store = createKeyStore({ db: database().db, pepper: testPepper, clock, cacheTtlMs: 1_000 });
    return () => store.close();
  });
  const newKey = (extra: Partial<Parameters<typeof createApiKey>[1]> = {}) =>
    createApiKey(database().db, {
      pepper: testPepper,
      orgId: fixture.org.id,
      userId: fixture.user.id,
      name: 'laptop',
      actor: 'test',
      clock,
      ...extra,
    });

  it('authenticates a new key to its owner, team, scopes, models and limits', async () => {
    const { key, secret } = await newKey({
      scopes: ['inference', 'api'],
      allowedModels: ['llama-3-8b', 'qwen-2.5-72b'],
      rpmLimit: 60,
      tpmLimit: 100_000,
    });
    expect(secret).toMatch(/^tw_[a-z2-7]{12}_[0-9A-Za-z]{43}$/);
    expect(secret.startsWith(`tw_${key.id}_`)).toBe(true);
    const principal = await store.authenticate(bearer(secret));
    expect(principal).toEqual({
      keyId: key.id,
      orgId: fixture.org.id,
      userId: fixture.user.id,
      teamId: fixture.team.id,
      systemOwner: null,
      scopes: ['inference', 'api'],
      allowedModels: ['llama-3-8b', 'qwen-2.5-72b'],
      rpmLimit: 60,
      tpmLimit: 100_000,
      carbonAwareRouting: true,
    });
    expect(await store.authenticate(`bearer   ${secret}  `)).toBe(principal);
  });

  it('authenticates a system key to the system owner that pays, with no user or team', async () => {
    const { secret } = await newKey({ userId: null, systemOwner: 'judge', name: 'llm judge' });
    expect(await store.authenticate(bearer(secret))).toMatchObject({
      userId: null,
      teamId: null,
      systemOwner: 'judge',
      scopes: ['inference'],
      allowedModels: null,
      rpmLimit: null,
      tpmLimit: null,
    });
  });

  it('refuses a missing header, another scheme and a malformed key, each saying so without echoing it', async () => {
    const { secret } = await newKey();
    expect(await refusal(store, undefined)).toMatch(/^Missing Authorization header/);
    expect(await refusal(store, '   ')).toMatch(/^Missing Authorization header/);
    expect(await refusal(store, `Basic ${secret}`, secret)).toMatch(/^The Authorization header is not a Bearer token/);
    expect(await refusal(store, secret, secret)).toMatch(/not a Bearer token/);
    expect(await refusal(store, bearer(secret.slice(0, -1)), secret)).toMatch(
      /^Malformed API key: expected tw_<12-character id>_<43-character secret>/,
    );
    expect(await refusal(store, bearer(`${secret}x`), secret)).toMatch(/^Malformed API key/);
    expect(await refusal(store, bearer(secret.toUpperCase()), secret)).toMatch(/^Malformed API key/);
    expect(await refusal(store, bearer(`sk-${'a'.repeat(48)}`))).toMatch(/^Malformed API key/);
  });

  it('refuses a wrong secret and an unknown id with the same message, naming only the key id', async () => {
    const { key, secret } = await newKey();
    const wrong = `tw_${key.id}_${'A'.repeat(43)}`;
    expect(await refusal(store, bearer(wrong), secret)).toBe(
      `Unknown API key or wrong secret (key id ${key.id}): check that the key was copied whole, or ask an admin for a new one.`,
    );
    const unknownId = secret.replace(/^tw_[a-z2-7]{12}/, 'tw_aaaaaaaaaaaa');
    expect(await refusal(store, bearer(unknownId), secret)).toMatch(
      /^Unknown API key or wrong secret \(key id aaaaaaaaaaaa\)/,
    );
    // Cached both ways now: the same answers again.
    expect(await refusal(store, bearer(unknownId), secret)).toMatch(/^Unknown API key or wrong secret/);
    expect(await refusal(store, bearer(wrong), secret)).toMatch(/^Unknown API key or wrong secret/);
    expect((await store.authenticate(bearer(secret))).keyId).toBe(key.id);
  });

  it('refuses a key from its expiry on, naming when it expired', async () => {
    const { key, secret } = await newKey({ expiresAt: new Date(now.getTime() + 60_000) });
    expect((await store.authenticate(bearer(secret))).keyId).toBe(key.id);
    advance(59_999);
    expect((await store.authenticate(bearer(secret))).keyId).toBe(key.id);
    advance(1);
    expect(await refusal(store, bearer(secret), secret)).toBe(
      `API key ${key.id} expired at ${new Date(now.getTime()).toISOString()}: ask an admin for a new key.`,
    );
  });

  it('stops a revoked key on this replica once the cached row is older than the cache TTL', async () => {
    const { key, secret } = await newKey();
    const other = createKeyStore({ db: database().db, pepper: testPepper, clock, cacheTtlMs: 500 });
    try {
      expect((await store.authenticate(bearer(secret))).keyId).toBe(key.id);
      expect((await other.authenticate(bearer(secret))).keyId).toBe(key.id);
      await revokeApiKey(database().db, { keyId: key.id, actor: 'test', clock });
      // Each replica may still serve its cached row, but never past its TTL.
      advance(499);
      expect((await other.authenticate(bearer(secret))).keyId).toBe(key.id);
      advance(1);
      expect(await refusal(other, bearer(secret), secret)).toMatch(
        new RegExp(`^API key ${key.id} was revoked at .*: ask an admin for a new key\\.$`),
      );
      advance(500);
      expect(await refusal(store, bearer(secret), secret)).toMatch(/was revoked/);
    } finally {
      other.close();
    }
  });

  it('rereads a key in use in the background once its row is half the TTL old, so a revocation lands without a request waiting for it', async () => {
    const { key, secret } = await newKey();
    const busy = createKeyStore({ db: database().db, pepper: testPepper, clock, cacheTtlMs: 1_000 });
    try {
      expect((await busy.authenticate(bearer(secret))).keyId).toBe(key.id);
      await revokeApiKey(database().db, { keyId: key.id, actor: 'test', clock });
      advance(499);
      // Younger than half the TTL: served, and not reread.
      expect((await busy.authenticate(bearer(secret))).keyId).toBe(key.id);
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect((await busy.authenticate(bearer(secret))).keyId).toBe(key.id);
      advance(1);
      // Half the TTL old: still served from memory at once, and reread in the background.
      expect((await busy.authenticate(bearer(secret))).keyId).toBe(key.id);
      await expect
        .poll(() => refusal(busy, bearer(secret), secret), { timeout: 5_000, interval: 20 })
        .toMatch(/was revoked/);
      // The clock never reached the TTL: the background reread, not expiry, stopped the key.
    } finally {
      busy.close();
    }
  });

  it('tells only the holder of the secret that a key was revoked', async () => {
    const { key, secret } = await newKey();
    await revokeApiKey(database().db, { keyId: key.id, actor: 'test' });
    expect(await refusal(store, bearer(`tw_${key.id}_${'B'.repeat(43)}`), secret)).toMatch(
      /^Unknown API key or wrong secret/,
    );
  });

  it('keeps a rotated key working until its overlap ends, and the new key from the start', async () => {
    const old = await newKey({ allowedModels: ['llama-3-8b'], rpmLimit: 10 });
    expect((await store.authenticate(bearer(old.secret))).keyId).toBe(old.key.id);
    const rotated = await rotateApiKey(database().db, {
      pepper: testPepper,
      keyId: old.key.id,
      overlapSeconds: 3_600,
      actor: 'test',
      clock,
    });
    expect(await store.authenticate(bearer(rotated.secret))).toMatchObject({
      keyId: rotated.key.id,
      userId: fixture.user.id,
      allowedModels: ['llama-3-8b'],
      rpmLimit: 10,
    });
    advance(3_599_000);
    expect((await store.authenticate(bearer(old.secret))).keyId).toBe(old.key.id);
    advance(1_000);
    expect(await refusal(store, bearer(old.secret), old.secret)).toMatch(
      new RegExp(`expired at .*: it was rotated: use its replacement \\(key id ${rotated.key.id}\\)\\.$`),
    );
    expect((await store.authenticate(bearer(rotated.secret))).keyId).toBe(rotated.key.id);
  });

  it('ends a rotated key at once with no overlap', async () => {
    const old = await newKey();
    await store.authenticate(bearer(old.secret));
    const rotated = await rotateApiKey(database().db, {
      pepper: testPepper,
      keyId: old.key.id,
      overlapSeconds: 0,
      actor: 'test',
      clock,
    });
    advance(1_000);
    expect(await refusal(store, bearer(old.secret), old.secret)).toMatch(/expired at/);
    expect((await store.authenticate(bearer(rotated.secret))).keyId).toBe(rotated.key.id);
  });

  it('remembers an unknown id for at most the negative TTL, then finds a key created under it', async () => {
    const id = newKeyId();
    const secret = newKeySecret();
    expect(await refusal(store, bearer(formatKey(id, secret)), secret)).toMatch(/^Unknown API key or wrong secret/);
    // The row appears (as if created on another replica just after): the cached miss still answers.
    await database()
      .db.insert(apiKeys)
      .values({
        id,
        orgId: fixture.org.id,
        userId: fixture.user.id,
        name: 'late',
        secretHmac: secretHmac(testPepper, secret),
        scopes: ['inference'],
      });
    advance(999);
    expect(await refusal(store, bearer(formatKey(id, secret)), secret)).toMatch(/^Unknown API key or wrong secret/);
    advance(1);
    expect((await store.authenticate(bearer(formatKey(id, secret)))).keyId).toBe(id);
  });

  it('shares one database read among concurrent requests with the same key', async () => {
    const { key, secret } = await newKey();
    const fresh = createKeyStore({ db: database().db, pepper: testPepper, clock });
    try {
      const principals = await Promise.all(Array.from({ length: 20 }, () => fresh.authenticate(bearer(secret))));
      expect(new Set(principals).size).toBe(1);
      expect(principals[0]?.keyId).toBe(key.id);
    } finally {
      fresh.close();
    }
  });

  it('refuses a cache TTL over one second and a short pepper', () => {
    expect(() => createKeyStore({ db: database().db, pepper: testPepper, cacheTtlMs: 1_001 })).toThrow(
      /cacheTtlMs must be a whole number from 0 to 1000/,
    );
    expect(() => createKeyStore({ db: database().db, pepper: testPepper.subarray(0, 16) })).toThrow(
      /at least 32 bytes/,
    );
  });
});
