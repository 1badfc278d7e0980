import { createKeyStore, experimentsWebhookSecret, submitExperimentResults } from '@tokenwise/control';
import { findExperimentsServiceKey, findUserByEmail } from '@tokenwise/db';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../config';
import { openServices, type Services } from '../services';
import { runRemoteCommand } from './control-client';
import { startControlServer, type ControlServer } from './control-server';

interface CreatedServiceKey {
  key: { id: string; name: string; scopes: string[]; systemOwner: string | null; userId: string | null };
  secret: string;
  webhookSecret: string;
}

const result = (resultId: string) => ({
  resultId,
  experimentKey: 'cli-banner',
  metricId: 'conversion',
  higherIsBetter: true,
  startedAt: '2026-10-01T00:00:00Z',
  variations: [
    { key: 'control', summary: { kind: 'binomial', count: 100, sum: 40 } },
    { key: 'bold', summary: { kind: 'binomial', count: 100, sum: 45 } },
  ],
  assignments: { bold: ['alice@acme.test'] },
});

describe('tokenwise experiments service-key create', () => {
  let dir: string;
  let services: Services;
  let control: ControlServer;
  const run = (command: string, options: Record<string, string | boolean>) =>
    runRemoteCommand(control, command, options, 'cli:tester');
  const authenticate = async (secret: string) => {
    const store = createKeyStore({ db: services.database.db, pepper: services.keyPepper, cacheTtlMs: 0 });
    try {
      return await store.authenticate(`Bearer ${secret}`);
    } finally {
      store.close();
    }
  };
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tw-exp-keys-'));
    services = await openServices(loadConfig({ TOKENWISE_DATA_DIR: dir }));
    control = await startControlServer(services);
    await run('org create', { slug: 'acme', name: 'Acme' });
    await run('user create', { org: 'acme', email: 'ada@acme.test', name: 'Ada', roles: 'admin' });
    await run('user create', { org: 'acme', email: 'alice@acme.test', name: 'Alice' });
  });
  afterAll(async () => {
    await control?.close();
    await services?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('prints the key and its webhook secret once; the key submits results as a service, with the admin as submitter', async () => {
    const output = await run('experiments service-key create', { org: 'acme', admin: 'ada@acme.test', name: 'gb' });
    const created = output.data as CreatedServiceKey;
    expect(created.key).toMatchObject({
      name: 'gb',
      scopes: ['experiments'],
      systemOwner: 'experiments',
      userId: null,
    });
    expect(created.webhookSecret).toBe(experimentsWebhookSecret(services.keyPepper, created.key.id));
    expect(output.text).toContain(`\n  ${created.secret}\n`);
    expect(output.text).toContain(`\n  ${created.webhookSecret}\n`);
    expect(output.text).toMatch(/only time they are shown/);
    const principal = await authenticate(created.secret);
    expect(principal).toMatchObject({ keyId: created.key.id, userId: null, scopes: ['experiments'] });
    const service = { keyId: principal.keyId, orgId: principal.orgId };
    expect((await submitExperimentResults(services.database.db, { service, input: result('cli-1') })).stored).toBe(
      'new',
    );
    const ada = await findUserByEmail(services.database.db, { orgId: principal.orgId, email: 'ada@acme.test' });
    const row = await findExperimentsServiceKey(services.database.db, { keyId: created.key.id });
    expect(row?.createdByUserId).toBe(ada?.id);
  });

  it('`keys rotate` of the service key prints a new webhook secret, and the replacement still submits', async () => {
    const created = (await run('experiments service-key create', { org: 'acme', admin: 'ada@acme.test' }))
      .data as CreatedServiceKey;
    const rotated = await run('keys rotate', { id: created.key.id, 'overlap-seconds': '0' });
    const next = rotated.data as CreatedServiceKey;
    expect(next.webhookSecret).toBe(experimentsWebhookSecret(services.keyPepper, next.key.id));
    expect(rotated.text).toContain(`\n  ${next.webhookSecret}\n`);
    const principal = await authenticate(next.secret);
    const service = { keyId: principal.keyId, orgId: principal.orgId };
    expect((await submitExperimentResults(services.database.db, { service, input: result('cli-2') })).stored).toBe(
      'new',
    );
  });

  it('refuses an --admin who is not an admin of the org, or no user at all, and creates nothing', async () => {
    await expect(
      run('experiments service-key create', { org: 'acme', admin: 'alice@acme.test', name: 'sneaky' }),
    ).rejects.toThrow(/Only an admin of the org/);
    await expect(
      run('experiments service-key create', { org: 'acme', admin: 'nobody@acme.test', name: 'sneaky' }),
    ).rejects.toThrow(/No user nobody@acme.test in org acme/);
    await expect(run('experiments service-key create', { org: 'acme' })).rejects.toThrow(/--admin/);
    const listed = await run('keys list', { org: 'acme' });
    expect(listed.text).not.toContain('sneaky');
  });
});
