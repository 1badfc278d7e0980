import { listAuditForEntity } from '@tokenwise/db';
import { revokeApiKey } from '@tokenwise/control';
import { describeEachBackend } from '@tokenwise/db/testing';
import { beforeAll, expect, it } from 'vitest';
import { seedApiFixture } from '../test-fixtures';

const dayMs = 86_400_000;

describeEachBackend('keys derive from the key that creates them, never escalate', (database) => {
  let f: Awaited<ReturnType<typeof seedApiFixture>>;
  beforeAll(async () => {
    f = await seedApiFixture(database());
  });
  /** A key as an admin hands it out with the CLI: limited in every way a derived key could escape. */
  const restricted = (user: (typeof f.users)[keyof typeof f.users]) =>
    f.withKey(user, {
      scopes: ['api'],
      allowedModels: ['llama-8b', 'qwen-7b'],
      rpmLimit: 60,
      tpmLimit: 10_000,
      expiresAt: new Date(Date.now() + 10 * dayMs + 3_600_000),
    });

  it('a key for yourself gets the creating key’s bounds where left out, what it asks for within them, and records its creator', async () => {
    const { key: parent, caller: employee } = await restricted(f.users.employee);
    const inherited = await employee.keys.create({ name: 'inherits', scopes: ['api'] });
    expect(inherited.key).toMatchObject({
      userId: f.users.employee.id,
      scopes: ['api'],
      allowedModels: ['llama-8b', 'qwen-7b'],
      rpmLimit: 60,
      tpmLimit: 10_000,
      expiresAt: parent.expiresAt?.toISOString(),
      createdByKeyId: parent.id,
    });
    const narrower = await employee.keys.create({
      name: 'narrower',
      scopes: ['api'],
      allowedModels: ['qwen-7b'],
      rpmLimit: 10,
      tpmLimit: 10_000,
      expiresInDays: 10,
    });
    expect(narrower.key).toMatchObject({
      allowedModels: ['qwen-7b'],
      rpmLimit: 10,
      tpmLimit: 10_000,
      createdByKeyId: parent.id,
    });
    expect(Date.parse(narrower.key.expiresAt ?? '')).toBeLessThanOrEqual(parent.expiresAt?.getTime() ?? 0);
    // An unbounded key passes on "every model", "unlimited" and "never".
    const { key: open, caller: openCaller } = await f.withKey(f.users.colleague);
    const wide = await openCaller.keys.create({
      name: 'wide',
      scopes: ['inference', 'api'],
      allowedModels: null,
      rpmLimit: null,
      expiresInDays: null,
    });
    expect(wide.key).toMatchObject({
      scopes: ['inference', 'api'],
      allowedModels: null,
      rpmLimit: null,
      tpmLimit: null,
      expiresAt: null,
      createdByKeyId: open.id,
    });
  });

  it('refuses each field beyond the creating key with FORBIDDEN naming the field and the bound', async () => {
    const { key: parent, caller: employee } = await restricted(f.users.employee);
    const refusal = (input: Parameters<typeof employee.keys.create>[0]) =>
      employee.keys.create(input).then(
        () => undefined,
        (error: unknown) => error,
      );
    const cases: [Parameters<typeof employee.keys.create>[0], RegExp][] = [
      [{ name: 'x' }, /^scopes: your key \w+ has scopes \[api\].*leave out inference/],
      [{ name: 'x', scopes: ['inference', 'api'] }, /^scopes: .*leave out inference/],
      [
        { name: 'x', scopes: ['api'], allowedModels: null },
        /^allowedModels: null means every model, but your key \w+ may use only \[llama-8b, qwen-7b\]: leave allowedModels out/,
      ],
      [
        { name: 'x', scopes: ['api'], allowedModels: ['qwen-7b', 'llama-70b'] },
        /^allowedModels: your key \w+ may use only \[llama-8b, qwen-7b\]; leave out llama-70b/,
      ],
      [
        { name: 'x', scopes: ['api'], rpmLimit: 61 },
        /^rpmLimit: 61 is over your key \w+'s limit of 60: ask for at most 60\./,
      ],
      [
        { name: 'x', scopes: ['api'], rpmLimit: null },
        /^rpmLimit: null means unlimited, but your key \w+ is limited to 60/,
      ],
      [{ name: 'x', scopes: ['api'], tpmLimit: 10_001 }, /^tpmLimit: 10001 is over .* limit of 10000/],
      [
        { name: 'x', scopes: ['api'], expiresInDays: 11 },
        /^expiresInDays: the new key would expire at .* after your key \w+ \(.*\): leave expiresInDays out to expire with it, or ask for at most 10 days\./,
      ],
      [
        { name: 'x', scopes: ['api'], expiresInDays: null },
        /^expiresInDays: null means never, but your key \w+ expires at /,
      ],
    ];
    for (const [input, message] of cases) {
      const error = await refusal(input);
      expect(error, JSON.stringify(input)).toMatchObject({
        code: 'FORBIDDEN',
        message: expect.stringMatching(message),
      });
      expect((error as Error).message).toContain(parent.id);
    }
    expect((await employee.keys.list()).filter((key) => key.createdByKeyId === parent.id)).toEqual([]);
  });

  it('refuses a key for yourself without a creating key, or from one revoked a moment ago (still in a key cache)', async () => {
    const noKey = await f.as(f.users.employee);
    await expect(noKey.keys.create({ name: 'x' })).rejects.toMatchObject({
      code: 'FORBIDDEN',
      message: expect.stringMatching(/derives from the API key you call with/),
    });
    const { key, caller } = await f.withKey(f.users.employee);
    await revokeApiKey(f.db, { keyId: key.id, actor: 'test' });
    await expect(caller.keys.create({ name: 'x' })).rejects.toMatchObject({
      code: 'FORBIDDEN',
      message: expect.stringMatching(/was revoked at .*: a revoked key creates no keys/),
    });
  });

  it('refuses the other ways up: another user, another org, a system owner, unknown scopes or fields', async () => {
    const { caller: employee } = await f.withKey(f.users.employee);
    await expect(employee.keys.create({ name: 'x', userId: f.users.colleague.id })).rejects.toMatchObject({
      code: 'FORBIDDEN',
    });
    const { caller: admin } = await f.withKey(f.users.admin);
    await expect(admin.keys.create({ name: 'x', userId: f.otherAdmin.id })).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
    for (const field of [
      { systemOwner: 'judge' },
      { orgId: f.otherAdmin.orgId },
      { createdByKeyId: null },
      { expiresAt: null },
    ]) {
      const input = { name: 'x', scopes: ['api'], ...field } as unknown as Parameters<typeof employee.keys.create>[0];
      await expect(employee.keys.create(input)).rejects.toMatchObject({
        code: 'BAD_REQUEST',
        message: expect.stringContaining(Object.keys(field)[0] ?? ''),
      });
      await expect(admin.keys.create({ ...input, userId: f.users.colleague.id })).rejects.toMatchObject({
        code: 'BAD_REQUEST',
      });
    }
    for (const scope of ['experiments', 'admin']) {
      await expect(employee.keys.create({ name: 'x', scopes: [scope as 'api'] })).rejects.toMatchObject({
        code: 'BAD_REQUEST',
      });
    }
  });

  it('one forbidden case per role: employee, lead and esg for another’s key, an admin beyond their own key', async () => {
    const target = (await f.withKey(f.users.colleague)).key;
    for (const user of [f.users.employee, f.users.lead, f.users.esg]) {
      const { caller } = await f.withKey(user);
      await expect(caller.keys.create({ name: 'x', userId: f.users.colleague.id }), user.email).rejects.toMatchObject({
        code: 'FORBIDDEN',
      });
      await expect(caller.keys.revoke({ keyId: target.id, cascade: true }), user.email).rejects.toMatchObject({
        code: 'FORBIDDEN',
      });
    }
    const { caller: admin } = await restricted(f.users.admin);
    await expect(admin.keys.create({ name: 'mine', scopes: ['api'], rpmLimit: 1_000 })).rejects.toMatchObject({
      code: 'FORBIDDEN',
      message: expect.stringMatching(/^rpmLimit: /),
    });
    const otherAdmin = await f.as(f.otherAdmin);
    await expect(otherAdmin.keys.revoke({ keyId: target.id, cascade: true })).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
  });

  it('an admin’s key for someone else keeps today’s behaviour (no bounds) and records which key created it', async () => {
    const { key: adminKey, caller: admin } = await restricted(f.users.admin);
    const { key } = await admin.keys.create({
      name: 'for carl',
      userId: f.users.colleague.id,
      scopes: ['inference', 'api'],
      rpmLimit: 5_000,
    });
    expect(key).toMatchObject({
      userId: f.users.colleague.id,
      scopes: ['inference', 'api'],
      allowedModels: null,
      rpmLimit: 5_000,
      tpmLimit: null,
      expiresAt: null,
      createdByKeyId: adminKey.id,
    });
    const inProcess = await f.as(f.users.admin);
    expect(
      (await inProcess.keys.create({ name: 'for carl', userId: f.users.colleague.id })).key.createdByKeyId,
    ).toBeNull();
  });

  it('rotation by hand: a key created with the old one survives revoking the old one without cascade', async () => {
    const { key: old, caller: before } = await f.withKey(f.users.employee);
    const { key: replacement } = await before.keys.create({ name: 'new laptop', scopes: ['inference', 'api'] });
    const revoked = await before.keys.revoke({ keyId: old.id });
    expect(revoked).toMatchObject({ id: old.id, revokedAt: expect.any(String), derivedKeysRevoked: 0 });
    const after = await f.as(f.users.employee, replacement.id);
    const listed = await after.keys.list();
    expect(listed.find((key) => key.id === replacement.id)?.revokedAt).toBeNull();
    // The replacement keeps deriving keys of its own.
    expect((await after.keys.create({ name: 'ci', scopes: ['inference'] })).key.createdByKeyId).toBe(replacement.id);
  });

  it('revoke with cascade takes every key derived from the key, transitively, in one audited call; others stay', async () => {
    const { key: root, caller } = await f.withKey(f.users.employee);
    const { key: child } = await caller.keys.create({ name: 'child', scopes: ['inference', 'api'] });
    const childCaller = await f.as(f.users.employee, child.id);
    const { key: grandchild } = await childCaller.keys.create({ name: 'grandchild' });
    const { key: unrelated } = await (await f.withKey(f.users.employee)).caller.keys.create({ name: 'unrelated' });

    const revoked = await caller.keys.revoke({ keyId: root.id, cascade: true });
    expect(revoked).toMatchObject({ id: root.id, revokedAt: expect.any(String), derivedKeysRevoked: 2 });
    const keys = await caller.keys.list();
    const state = (id: string) => keys.find((key) => key.id === id)?.revokedAt ?? null;
    expect(state(child.id)).toBe(revoked.revokedAt);
    expect(state(grandchild.id)).toBe(revoked.revokedAt);
    expect(state(unrelated.id)).toBeNull();
    const audit = await listAuditForEntity(f.db, { entityType: 'api_key', entityId: grandchild.id });
    expect(audit[0]).toMatchObject({
      action: 'api_key.revoke',
      actor: `user:${f.users.employee.id}`,
      after: expect.objectContaining({ revokedWith: root.id }),
    });
    await expect(childCaller.keys.create({ name: 'too late' })).rejects.toMatchObject({ code: 'FORBIDDEN' });
  });
});
