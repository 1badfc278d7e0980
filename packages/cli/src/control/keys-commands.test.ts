import { createDerivedApiKey, createKeyStore } from '@tokenwise/control';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../config';
import { openServices, type Services } from '../services';
import { UsageError } from '../usage-error';
import { runRemoteCommand } from './control-client';
import { startControlServer, type ControlServer } from './control-server';

interface CreatedKey {
  key: {
    id: string;
    name: string;
    scopes: string[];
    allowedModels: string[] | null;
    rpmLimit: number | null;
    expiresAt: string | null;
  };
  secret: string;
}

describe('tokenwise keys create, list, revoke and rotate through the platform control endpoint', () => {
  let dir: string;
  let services: Services;
  let control: ControlServer;
  const run = (command: string, options: Record<string, string | boolean>) =>
    runRemoteCommand(control, command, options, 'cli:tester');
  const authenticate = async (secret: string) => {
    // A fresh store per call: no cached row hides a change.
    const store = createKeyStore({ db: services.database.db, pepper: services.keyPepper, cacheTtlMs: 0 });
    try {
      return await store.authenticate(`Bearer ${secret}`);
    } finally {
      store.close();
    }
  };
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tw-keys-'));
    services = await openServices(loadConfig({ TOKENWISE_DATA_DIR: dir }));
    control = await startControlServer(services);
    await run('org create', { slug: 'acme', name: 'Acme' });
    await run('team create', { org: 'acme', slug: 'eng', name: 'Engineering' });
    await run('user create', { org: 'acme', email: 'alice@acme.test', name: 'Alice', team: 'eng' });
  });
  afterAll(async () => {
    await control?.close();
    await services?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('creates a key, shows it once with a warning, and the gateway accepts it', async () => {
    const created = await run('keys create', {
      org: 'acme',
      user: 'alice@acme.test',
      name: 'laptop',
      scopes: 'inference,api',
      models: 'llama-3-8b, qwen',
      rpm: '60',
      'expires-in-days': '30',
    });
    const { key, secret } = created.data as CreatedKey;
    expect(secret).toMatch(new RegExp(`^tw_${key.id}_[0-9A-Za-z]{43}$`));
    expect(created.text).toContain(`\n\n  ${secret}\n\n`);
    expect(created.text).toMatch(/Store it now: this is the only time the key is shown\./);
    expect(created.text).toMatch(
      new RegExp(
        `^Created API key ${key.id}  "laptop"  alice@acme\\.test \\(acme\\)  scopes inference,api  models llama-3-8b,qwen  rpm 60, active until `,
      ),
    );
    expect(key).toMatchObject({ scopes: ['inference', 'api'], allowedModels: ['llama-3-8b', 'qwen'], rpmLimit: 60 });
    expect(await authenticate(secret)).toMatchObject({
      keyId: key.id,
      scopes: ['inference', 'api'],
      allowedModels: ['llama-3-8b', 'qwen'],
      rpmLimit: 60,
      tpmLimit: null,
    });
  });

  it('creates a system key, lists keys without secrets, revokes and rotates', async () => {
    const system = (await run('keys create', { org: 'acme', system: 'judge', tpm: '100000' })).data as CreatedKey;
    expect(system.key.name).toBe('system judge');
    const alice = (await run('keys create', { org: 'acme', user: 'alice@acme.test' })).data as CreatedKey;
    expect(alice.key).toMatchObject({
      name: 'alice@acme.test key',
      scopes: ['inference'],
      allowedModels: null,
      expiresAt: null,
    });

    const listed = await run('keys list', { org: 'acme' });
    expect(listed.text).toMatch(/^API keys of org acme, newest first:/);
    expect(listed.text).toContain(
      `${system.key.id}  "system judge"  system judge  scopes inference  models all  tpm 100000  active`,
    );
    for (const secret of [system.secret, alice.secret]) {
      expect(listed.text).not.toContain(secret.slice(16));
      expect(JSON.stringify(listed.data)).not.toContain(secret.slice(16));
    }
    expect(JSON.stringify(listed.data)).not.toMatch(/secretHmac/);
    const mine = await run('keys list', { org: 'acme', user: 'alice@acme.test' });
    expect((mine.data as { id: string }[]).map((key) => key.id)).not.toContain(system.key.id);
    expect(mine.text).toContain(`${alice.key.id}  "alice@acme.test key"  alice@acme.test  `);

    expect((await run('keys revoke', { id: system.key.id })).text).toBe(
      `Revoked API key ${system.key.id} ("system judge"): every gateway refuses it within a second.`,
    );
    expect((await run('keys revoke', { id: system.key.id })).text).toMatch(/was already revoked at/);
    await expect(authenticate(system.secret)).rejects.toThrow(/was revoked at/);
    expect((await run('keys list', { org: 'acme' })).text).toMatch(new RegExp(`${system.key.id} .* revoked `));

    const rotated = await run('keys rotate', { id: alice.key.id, 'overlap-seconds': '0' });
    const next = rotated.data as CreatedKey;
    expect(rotated.text).toMatch(
      new RegExp(
        `^Rotated API key ${alice.key.id}: it keeps working until .*\\. Its replacement is ${next.key.id}:\\n\\n  ${next.secret}\\n\\nStore it now`,
      ),
    );
    expect((await authenticate(next.secret)).keyId).toBe(next.key.id);
    await expect(authenticate(alice.secret)).rejects.toThrow(`use its replacement (key id ${next.key.id})`);
  });

  it('records no creating key for a CLI key; revoke --cascade also revokes the keys derived from it, without it they keep working', async () => {
    const root = (await run('keys create', { org: 'acme', user: 'alice@acme.test', scopes: 'inference,api' }))
      .data as CreatedKey & { key: { createdByKeyId: string | null; orgId: string; userId: string } };
    expect(root.key.createdByKeyId).toBeNull();
    const derive = async (creatorKeyId: string) =>
      createDerivedApiKey(services.database.db, {
        pepper: services.keyPepper,
        creatorKeyId,
        orgId: root.key.orgId,
        userId: root.key.userId,
        name: 'derived',
        actor: 'test',
      });
    const child = await derive(root.key.id);
    const grandchild = await derive(child.key.id);
    expect((await run('keys revoke', { id: root.key.id })).text).toMatch(/^Revoked API key/);
    expect((await authenticate(grandchild.secret)).keyId).toBe(grandchild.key.id);
    const cascaded = await run('keys revoke', { id: root.key.id, cascade: true });
    expect(cascaded.text).toBe(
      `Revoked API key ${root.key.id} ("alice@acme.test key") and 2 keys created from it: every gateway refuses them within a second.`,
    );
    for (const derived of [child, grandchild])
      await expect(authenticate(derived.secret)).rejects.toThrow(/was revoked at/);
  });

  it('says what to fix when options are missing or wrong', async () => {
    await expect(run('keys create', { user: 'alice@acme.test' })).rejects.toThrow(new UsageError('--org is required.'));
    await expect(run('keys create', { org: 'acme' })).rejects.toThrow(/Give --user EMAIL .* or --system OWNER/);
    await expect(run('keys create', { org: 'acme', user: 'alice@acme.test', system: 'judge' })).rejects.toThrow(
      UsageError,
    );
    await expect(run('keys create', { org: 'acme', user: 'bob@acme.test' })).rejects.toThrow(
      'No user bob@acme.test in org acme.',
    );
    await expect(run('keys create', { org: 'acme', user: 'alice@acme.test', rpm: '0' })).rejects.toThrow(
      '--rpm must be a whole number from 1 to 1000000000, got "0".',
    );
    await expect(run('keys create', { org: 'acme', user: 'alice@acme.test', scopes: 'admin' })).rejects.toThrow(
      'Unknown scope(s) admin: use inference, api.',
    );
    await expect(run('keys revoke', {})).rejects.toThrow(new UsageError('--id is required.'));
    await expect(run('keys revoke', { id: 'aaaaaaaaaaaa' })).rejects.toThrow('No API key aaaaaaaaaaaa.');
    await expect(run('keys rotate', { id: 'aaaaaaaaaaaa', 'overlap-seconds': 'soon' })).rejects.toThrow(
      /--overlap-seconds must be a whole number/,
    );
  });
});
