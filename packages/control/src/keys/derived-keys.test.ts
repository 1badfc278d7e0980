import { ConflictError, ForbiddenError, NotFoundError, ValidationError } from '@tokenwise/core';
import { createUser, listAuditForEntity } from '@tokenwise/db';
import { describeEachBackend } from '@tokenwise/db/testing';
import { beforeAll, expect, it } from 'vitest';
import { setTimeout as sleep } from 'node:timers/promises';
import { createApiKey, insertKey, listApiKeys, lockKey, revokeApiKey, rotateApiKey } from './api-keys';
import { createDerivedApiKey, revokeApiKeyCascade } from './derived-keys';
import { activeKeysPerUserMax } from './limits';
import { orgWithUser, testPepper } from './test-fixtures';
import type { ApiKeyInfo } from './types';

describeEachBackend('keys derived from keys', (database, backend) => {
  let fixture: Awaited<ReturnType<typeof orgWithUser>>;
  beforeAll(async () => {
    fixture = await orgWithUser(database().db);
  });
  const db = () => database().db;
  const rootKey = (extra: Partial<Parameters<typeof createApiKey>[1]> = {}) =>
    createApiKey(db(), {
      pepper: testPepper,
      orgId: fixture.org.id,
      userId: fixture.user.id,
      name: 'cli',
      scopes: ['inference', 'api'],
      actor: 'cli:admin',
      ...extra,
    }).then((created) => created.key);
  const derive = (creator: ApiKeyInfo, extra: Partial<Parameters<typeof createDerivedApiKey>[1]> = {}) =>
    createDerivedApiKey(db(), {
      pepper: testPepper,
      creatorKeyId: creator.id,
      orgId: creator.orgId,
      userId: creator.userId ?? '',
      name: 'derived',
      actor: `user:${creator.userId}`,
      ...extra,
    }).then((created) => created.key);
  const keyById = async (id: string) =>
    (await listApiKeys(db(), { orgId: fixture.org.id })).find((key) => key.id === id);

  it('records its creator and inherits the creator’s bounds for every field left out', async () => {
    const expiresAt = new Date(Date.now() + 7 * 86_400_000);
    const parent = await rootKey({ allowedModels: ['m1', 'm2'], rpmLimit: 30, tpmLimit: 3_000, expiresAt });
    expect(parent.createdByKeyId).toBeNull();
    const child = await derive(parent, { scopes: ['inference'] });
    expect(child).toMatchObject({
      createdByKeyId: parent.id,
      userId: fixture.user.id,
      systemOwner: null,
      scopes: ['inference'],
      allowedModels: ['m1', 'm2'],
      rpmLimit: 30,
      tpmLimit: 3_000,
      expiresAt,
    });
    const audit = await listAuditForEntity(db(), { entityType: 'api_key', entityId: child.id });
    expect(audit).toMatchObject([
      {
        action: 'api_key.create',
        actor: `user:${fixture.user.id}`,
        after: expect.objectContaining({ createdByKeyId: parent.id }),
      },
    ]);
  });

  it('refuses a revoked, expired, foreign or unknown creating key, and a past expiry', async () => {
    const revoked = await rootKey();
    await revokeApiKey(db(), { keyId: revoked.id, actor: 'test' });
    await expect(derive(revoked)).rejects.toThrow(
      new RegExp(`^API key ${revoked.id} was revoked at .*: a revoked key creates no keys`),
    );
    const short = await rootKey({ expiresAt: new Date(Date.now() + 60_000) });
    await expect(derive(short, { clock: () => new Date(Date.now() + 120_000) })).rejects.toThrow(
      /an expired key creates no keys/,
    );
    const bob = await createUser(db(), {
      actor: 'test',
      input: { orgId: fixture.org.id, email: `bob-${fixture.org.slug}@x.test`, displayName: 'Bob' },
    });
    const parent = await rootKey();
    await expect(derive(parent, { userId: bob.id })).rejects.toThrow(
      new ForbiddenError(
        `API key ${parent.id} is not yours: a key you create for yourself derives from the key you call with.`,
      ),
    );
    const other = await orgWithUser(db());
    await expect(derive(parent, { orgId: other.org.id, userId: other.user.id })).rejects.toThrow(ForbiddenError);
    await expect(derive({ ...parent, id: 'aaaaaaaaaaaa' })).rejects.toThrow(NotFoundError);
    const past = derive(parent, { expiresAt: new Date(Date.now() - 1_000), expiryField: 'expiresInDays' });
    await expect(past).rejects.toThrow(ValidationError);
    await expect(past).rejects.toThrow(/expiresInDays .* must be in the future/);
  });

  it(`refuses a key for yourself beyond ${activeKeysPerUserMax} working keys`, async () => {
    const crowded = await orgWithUser(db());
    const create = (name: string) =>
      createApiKey(db(), {
        pepper: testPepper,
        orgId: crowded.org.id,
        userId: crowded.user.id,
        name,
        scopes: ['api'],
        actor: 'cli:admin',
      });
    const { key: parent } = await create('cli');
    for (let index = 1; index < activeKeysPerUserMax; index += 1) await create(`k${index}`);
    await expect(derive(parent, { scopes: ['api'] })).rejects.toThrow(
      new ConflictError(
        `You hold ${activeKeysPerUserMax} working API keys, and you may create keys for yourself only while you hold fewer than ${activeKeysPerUserMax}: revoke keys you no longer use, then try again.`,
      ),
    );
  });

  it('without cascade, revoking a key leaves what it created working (rotation); with cascade, the whole chain goes, once, audited', async () => {
    const old = await rootKey();
    const replacement = await derive(old, { scopes: ['inference', 'api'] });
    await revokeApiKey(db(), { keyId: old.id, actor: 'test' });
    expect((await keyById(replacement.id))?.revokedAt).toBeNull();
    // The replacement can itself derive keys: the chain grows under an already revoked key.
    const grandchild = await derive(replacement);
    const greatGrandchild = await derive(grandchild);
    const sibling = await rootKey();

    const { key, derivedRevoked } = await revokeApiKeyCascade(db(), { keyId: old.id, actor: 'user:cascader' });
    expect(key.id).toBe(old.id);
    expect(derivedRevoked.map((revoked) => revoked.id).sort()).toEqual(
      [replacement.id, grandchild.id, greatGrandchild.id].sort(),
    );
    for (const id of [replacement.id, grandchild.id, greatGrandchild.id])
      expect((await keyById(id))?.revokedAt).toEqual(derivedRevoked[0]?.revokedAt);
    expect((await keyById(sibling.id))?.revokedAt).toBeNull();
    expect((await listAuditForEntity(db(), { entityType: 'api_key', entityId: greatGrandchild.id }))[0]).toMatchObject({
      action: 'api_key.revoke',
      actor: 'user:cascader',
      before: expect.objectContaining({ revokedAt: null }),
      after: expect.objectContaining({ revokedWith: old.id }),
    });
    expect((await listAuditForEntity(db(), { entityType: 'api_key', entityId: old.id }))[0]).toMatchObject({
      action: 'api_key.revoke_cascade',
      after: expect.objectContaining({ derivedRevokedCount: 3 }),
    });
    expect((await revokeApiKeyCascade(db(), { keyId: old.id, actor: 'test' })).derivedRevoked).toEqual([]);
  });

  it('a rotated derived key keeps its place in the chain, so cascading from the creator still reaches the replacement', async () => {
    const parent = await rootKey();
    const child = await derive(parent);
    const rotated = await rotateApiKey(db(), {
      pepper: testPepper,
      keyId: child.id,
      overlapSeconds: 60,
      actor: 'cli:admin',
    });
    expect(rotated.key.createdByKeyId).toBe(parent.id);
    const { derivedRevoked } = await revokeApiKeyCascade(db(), { keyId: parent.id, actor: 'test' });
    expect(derivedRevoked.map((key) => key.id).sort()).toEqual([child.id, rotated.key.id].sort());
  });

  // Two connections at once: only the real server has them.
  it.runIf(backend === 'postgres')(
    'a key derived while a cascade waits on its creator is revoked by the same cascade',
    async () => {
      const root = await rootKey();
      const child = await derive(root);
      let cascade: ReturnType<typeof revokeApiKeyCascade> | undefined;
      // What createDerivedApiKey does from `child`, held open while the cascade starts and blocks on that row.
      const late = await db().transaction(async (tx) => {
        await lockKey(tx, child.id, 'share');
        cascade = revokeApiKeyCascade(db(), { keyId: root.id, actor: 'test' });
        await sleep(300);
        const fields = {
          orgId: child.orgId,
          userId: child.userId,
          systemOwner: null,
          name: 'late',
          scopes: child.scopes,
          allowedModels: null,
          rpmLimit: null,
          tpmLimit: null,
          expiresAt: null,
        };
        return (await insertKey(tx, testPepper, { ...fields, createdByKeyId: child.id })).key;
      });
      const { derivedRevoked } = await (cascade as ReturnType<typeof revokeApiKeyCascade>);
      expect(derivedRevoked.map((key) => key.id).sort()).toEqual([child.id, late.id].sort());
      expect((await keyById(late.id))?.revokedAt).not.toBeNull();
    },
  );
});
