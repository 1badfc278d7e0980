import { ConflictError, NotFoundError, stringifyJson, ValidationError } from '@tokenwise/core';
import { createUser, listAuditForEntity } from '@tokenwise/db';
import { apiKeys, auditLog } from '@tokenwise/db/schema';
import { describeEachBackend } from '@tokenwise/db/testing';
import { eq } from 'drizzle-orm';
import { createHmac, randomUUID } from 'node:crypto';
import { beforeAll, expect, it } from 'vitest';
import { createApiKey, listApiKeys, revokeApiKey, rotateApiKey } from './api-keys';
import { orgWithUser, testPepper } from './test-fixtures';

describeEachBackend('API keys', (database) => {
  let fixture: Awaited<ReturnType<typeof orgWithUser>>;
  beforeAll(async () => {
    fixture = await orgWithUser(database().db);
  });
  const newKey = (extra: Partial<Parameters<typeof createApiKey>[1]> = {}) =>
    createApiKey(database().db, {
      pepper: testPepper,
      orgId: fixture.org.id,
      userId: fixture.user.id,
      name: 'laptop',
      actor: 'user:admin',
      ...extra,
    });

  it('stores only the HMAC of the secret: the secret appears nowhere in the row or its audit rows', async () => {
    const { key, secret } = await newKey({ allowedModels: ['llama-3-8b'] });
    const secretPart = secret.slice(`tw_${key.id}_`.length);
    const [row] = await database().db.select().from(apiKeys).where(eq(apiKeys.id, key.id));
    expect(row?.secretHmac).toBe(createHmac('sha256', testPepper).update(secretPart).digest('hex'));
    expect(JSON.stringify(row)).not.toContain(secretPart);
    await revokeApiKey(database().db, { keyId: key.id, actor: 'user:admin' });
    const audits = await database().db.select().from(auditLog).where(eq(auditLog.entityId, key.id));
    expect(audits.map((audit) => audit.action).sort()).toEqual(['api_key.create', 'api_key.revoke']);
    const auditText = stringifyJson(audits);
    expect(auditText).not.toContain(secretPart);
    expect(auditText).not.toContain(row?.secretHmac);
    expect(auditText).not.toMatch(/secretHmac|secret_hmac/);
  });

  it('round-trips scopes (deduplicated), models, limits and expiry, and defaults to inference only', async () => {
    const expiresAt = new Date(Date.now() + 86_400_000);
    const { key } = await newKey({
      scopes: ['api', 'inference', 'api'],
      allowedModels: ['a', 'b'],
      rpmLimit: 1,
      tpmLimit: 1_000_000_000,
      expiresAt,
    });
    expect(key).toMatchObject({
      scopes: ['api', 'inference'],
      allowedModels: ['a', 'b'],
      rpmLimit: 1,
      tpmLimit: 1_000_000_000,
      expiresAt,
      revokedAt: null,
      replacedBy: null,
      systemOwner: null,
    });
    expect((await newKey()).key).toMatchObject({
      scopes: ['inference'],
      allowedModels: null,
      rpmLimit: null,
      tpmLimit: null,
      expiresAt: null,
    });
  });

  it('refuses bad input, naming each bad field', async () => {
    await expect(newKey({ name: '' })).rejects.toThrow(/name: /);
    await expect(newKey({ name: 'x'.repeat(101) })).rejects.toThrow(ValidationError);
    await expect(newKey({ scopes: [] })).rejects.toThrow(/scopes: /);
    await expect(newKey({ scopes: ['admin' as 'api'] })).rejects.toThrow(/scopes/);
    await expect(newKey({ allowedModels: [] })).rejects.toThrow(/allowedModels: /);
    await expect(newKey({ allowedModels: Array.from({ length: 101 }, (_, index) => `m${index}`) })).rejects.toThrow(
      /allowedModels: /,
    );
    await expect(newKey({ allowedModels: ['x'.repeat(201)] })).rejects.toThrow(/allowedModels\.0: /);
    await expect(newKey({ rpmLimit: 0 })).rejects.toThrow(/rpmLimit: /);
    await expect(newKey({ tpmLimit: 1.5 })).rejects.toThrow(/tpmLimit: /);
    await expect(newKey({ tpmLimit: 1_000_000_001 })).rejects.toThrow(/tpmLimit: /);
    await expect(newKey({ expiresAt: new Date(Date.now() - 1_000) })).rejects.toThrow(
      /expiresAt .* must be in the future/,
    );
    await expect(newKey({ systemOwner: 'judge' })).rejects.toThrow(/exactly one of userId .* or systemOwner/);
    await expect(newKey({ userId: null })).rejects.toThrow(/exactly one of userId .* or systemOwner/);
  });

  it('refuses a user of another org, and an unknown org', async () => {
    const other = await orgWithUser(database().db);
    await expect(newKey({ userId: other.user.id })).rejects.toThrow(NotFoundError);
    await expect(newKey({ userId: other.user.id })).rejects.toThrow(/a key can only bill a member of its org/);
    await expect(newKey({ orgId: randomUUID(), userId: null, systemOwner: 'judge' })).rejects.toThrow(/^No org /);
  });

  it('lists an org or one user, newest first, without secrets or HMACs', async () => {
    const { org, user } = await orgWithUser(database().db);
    const bob = await createUser(database().db, {
      actor: 'test',
      input: { orgId: org.id, email: `bob-${org.slug}@x.test`, displayName: 'Bob' },
    });
    const create = (userId: string, name: string) =>
      createApiKey(database().db, { pepper: testPepper, orgId: org.id, userId, name, actor: 'test' });
    const first = await create(user.id, 'one');
    const second = await create(bob.id, 'two');
    const all = await listApiKeys(database().db, { orgId: org.id });
    expect(all.map((key) => key.id).sort()).toEqual([first.key.id, second.key.id].sort());
    expect(Object.keys(all[0] ?? {}).sort()).toEqual([
      'allowedModels',
      'createdAt',
      'createdByKeyId',
      'expiresAt',
      'id',
      'name',
      'orgId',
      'replacedBy',
      'revokedAt',
      'rpmLimit',
      'scopes',
      'systemOwner',
      'tpmLimit',
      'userId',
    ]);
    expect((await listApiKeys(database().db, { orgId: org.id, userId: bob.id })).map((key) => key.name)).toEqual([
      'two',
    ]);
  });

  it('revokes once, audits once, and answers a second revoke with the key unchanged', async () => {
    const { key } = await newKey();
    const revoked = await revokeApiKey(database().db, { keyId: key.id, actor: 'user:admin' });
    expect(revoked.revokedAt).toBeInstanceOf(Date);
    expect(await revokeApiKey(database().db, { keyId: key.id, actor: 'user:admin' })).toEqual(revoked);
    const audits = await listAuditForEntity(database().db, { entityType: 'api_key', entityId: key.id });
    expect(audits.map((audit) => [audit.action, audit.actor])).toEqual([
      ['api_key.revoke', 'user:admin'],
      ['api_key.create', 'user:admin'],
    ]);
    await expect(revokeApiKey(database().db, { keyId: 'aaaaaaaaaaaa', actor: 'x' })).rejects.toThrow(
      new NotFoundError('No API key aaaaaaaaaaaa.'),
    );
    await expect(revokeApiKey(database().db, { keyId: 'not a key', actor: 'x' })).rejects.toThrow(ValidationError);
  });

  it('rotates to a key of the same owner and limits, ends the old one at the overlap or its own expiry, and audits both', async () => {
    const now = new Date();
    const clock = () => now;
    const old = await newKey({
      scopes: ['inference', 'api'],
      allowedModels: ['m'],
      rpmLimit: 5,
      tpmLimit: 50,
      expiresAt: new Date(now.getTime() + 600_000),
    });
    const rotated = await rotateApiKey(database().db, {
      pepper: testPepper,
      keyId: old.key.id,
      overlapSeconds: 3_600,
      actor: 'user:admin',
      clock,
    });
    expect(rotated.key).toMatchObject({
      orgId: old.key.orgId,
      userId: old.key.userId,
      name: 'laptop',
      scopes: ['inference', 'api'],
      allowedModels: ['m'],
      rpmLimit: 5,
      tpmLimit: 50,
    });
    expect(rotated.key.id).not.toBe(old.key.id);
    // The new key keeps the old one's lifetime; the old one ends at its own expiry, sooner than the overlap.
    const lifetimeMs = (old.key.expiresAt?.getTime() ?? 0) - old.key.createdAt.getTime();
    expect(rotated.key.expiresAt?.getTime()).toBe(now.getTime() + lifetimeMs);
    const [after] = (await listApiKeys(database().db, { orgId: fixture.org.id })).filter(
      (key) => key.id === old.key.id,
    );
    expect(after).toMatchObject({ replacedBy: rotated.key.id, expiresAt: old.key.expiresAt, revokedAt: null });
    const oldAudit = await listAuditForEntity(database().db, { entityType: 'api_key', entityId: old.key.id });
    expect(oldAudit[0]).toMatchObject({
      action: 'api_key.rotate',
      after: expect.objectContaining({ replacedBy: rotated.key.id }),
    });
    const newAudit = await listAuditForEntity(database().db, { entityType: 'api_key', entityId: rotated.key.id });
    expect(newAudit[0]).toMatchObject({
      action: 'api_key.create',
      after: expect.objectContaining({ rotatedFrom: old.key.id }),
    });
    expect(stringifyJson([oldAudit, newAudit])).not.toContain(rotated.secret.slice(16));

    const short = await newKey();
    await rotateApiKey(database().db, {
      pepper: testPepper,
      keyId: short.key.id,
      overlapSeconds: 60,
      actor: 'user:admin',
      clock,
    });
    const [shortAfter] = (await listApiKeys(database().db, { orgId: fixture.org.id })).filter(
      (key) => key.id === short.key.id,
    );
    expect(shortAfter?.expiresAt?.getTime()).toBe(now.getTime() + 60_000);
  });

  it('refuses to rotate a revoked, already rotated or unknown key, or with an overlap over 30 days', async () => {
    const rotate = (keyId: string, overlapSeconds = 60) =>
      rotateApiKey(database().db, { pepper: testPepper, keyId, overlapSeconds, actor: 'test' });
    const revoked = await newKey();
    await revokeApiKey(database().db, { keyId: revoked.key.id, actor: 'test' });
    await expect(rotate(revoked.key.id)).rejects.toThrow(ConflictError);
    const once = await newKey();
    const next = await rotate(once.key.id);
    await expect(rotate(once.key.id)).rejects.toThrow(
      `API key ${once.key.id} was already rotated; rotate its replacement ${next.key.id} instead.`,
    );
    await expect(rotate('aaaaaaaaaaaa')).rejects.toThrow(NotFoundError);
    await expect(rotate(next.key.id, 30 * 86_400 + 1)).rejects.toThrow(/overlapSeconds/);
    await expect(rotate(next.key.id, -1)).rejects.toThrow(ValidationError);
  });
});
