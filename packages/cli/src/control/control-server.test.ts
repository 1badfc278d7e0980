import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../config';
import { openServices, type Services } from '../services';
import { UsageError } from '../usage-error';
import { runRemoteCommand } from './control-client';
import { startControlServer, type ControlServer } from './control-server';

describe('the platform control endpoint (how the CLI reaches an embedded database in use)', () => {
  let dir: string;
  let services: Services;
  let control: ControlServer;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tw-control-'));
    services = await openServices(loadConfig({ TOKENWISE_DATA_DIR: dir }));
    control = await startControlServer(services);
  });
  afterAll(async () => {
    await control?.close();
    await services?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('runs org, user, grant, balance, history and verify in the platform process, with audit actors', async () => {
    const run = (command: string, options: Record<string, string | boolean>) =>
      runRemoteCommand(control, command, options, 'cli:tester');
    await run('org create', { slug: 'acme', name: 'Acme', 'time-zone': 'Europe/Berlin' });
    await run('user create', { org: 'acme', email: 'alice@acme.test', name: 'Alice' });
    const granted = await run('grant', {
      org: 'acme',
      user: 'alice@acme.test',
      amount: '7.25',
      reason: 'welcome',
      id: 'welcome-1',
    });
    expect(granted.text).toMatch(
      /^Granted 7\.25 innovation to alice@acme\.test \(acme\)\. Grant id welcome-1\. Available: 7\.25 innovation\.$/,
    );
    const again = await run('grant', {
      org: 'acme',
      user: 'alice@acme.test',
      amount: '7.25',
      reason: 'welcome',
      id: 'welcome-1',
    });
    expect(again.text).toMatch(/already applied earlier/);
    expect((await run('balance', { org: 'acme', user: 'alice@acme.test' })).text).toMatch(
      /innovation\s+available 7\.25, held 0, posted 7\.25/,
    );
    expect((await run('history', { org: 'acme', user: 'alice@acme.test' })).text).toMatch(/grant\s+welcome-1/);
    const verify = await run('ledger verify', {});
    expect(verify).toMatchObject({ text: expect.stringMatching(/The ledger is intact/) });
    expect(verify.exitCode).toBeUndefined();
  });

  it('reports bad input as the CLI would, and refuses callers without the token', async () => {
    await expect(
      runRemoteCommand(control, 'grant', { org: 'acme', user: 'alice@acme.test', reason: 'x' }, 'cli:tester'),
    ).rejects.toThrow(UsageError);
    await expect(
      runRemoteCommand(
        control,
        'grant',
        { org: 'acme', user: 'nobody@acme.test', amount: '1', reason: 'x' },
        'cli:tester',
      ),
    ).rejects.toThrow('No user nobody@acme.test in org acme.');
    await expect(
      runRemoteCommand({ url: control.url, token: 'wrong' }, 'balance', { org: 'acme' }, 'cli:x'),
    ).rejects.toThrow(/control token/);
  });
});
