import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { adminCommands } from './commands/admin/index';
import { runMain } from './test-kit';

describe('tokenwise refuses what it does not know, before touching any data', () => {
  let dataDir: string;
  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'tw-cli-refuse-'));
    vi.stubEnv('TOKENWISE_DATA_DIR', dataDir);
    vi.stubEnv('DATABASE_URL', '');
  });
  afterAll(async () => {
    // Nothing above may open the database: every refusal comes from the command line alone.
    expect(await readdir(dataDir)).toEqual([]);
    vi.unstubAllEnvs();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('suggests the command a typo meant, and lists every command', async () => {
    const typo = await runMain(['kyes', 'list', '--org', 'acme']);
    expect(typo).toMatchObject({ code: 2, stdout: '' });
    expect(typo.stderr).toMatch(/^tokenwise: Unknown command "kyes"\. Did you mean "keys list"\?\n/);
    for (const name of Object.keys(adminCommands)) expect(typo.stderr).toMatch(new RegExp(`^ {2}${name} `, 'm'));

    const subcommand = await runMain(['keys', 'crate', '--org', 'acme']);
    expect(subcommand).toMatchObject({ code: 2, stdout: '' });
    expect(subcommand.stderr).toMatch(/^tokenwise: Unknown command "keys crate"\. Did you mean "keys create"\?\n/);
    expect(subcommand.stderr).toContain('Usage: tokenwise keys [options] [command]');

    const unknown = await runMain(['frobnicate']);
    expect(unknown).toMatchObject({ code: 2, stdout: '' });
    expect(unknown.stderr).toMatch(/^tokenwise: Unknown command "frobnicate"\.\n\nUsage: tokenwise/);
  });

  it("refuses another command's option, naming the commands it belongs to, with this command's help", async () => {
    const foreign = await runMain(['keys', 'list', '--org', 'acme', '--slug', 'acme']);
    expect(foreign).toMatchObject({ code: 2, stdout: '' });
    expect(foreign.stderr).toMatch(
      /^tokenwise: Unknown option '--slug' for "keys list": it is an option of org create, team create\.\n\nUsage: tokenwise keys list/,
    );
    const notJson = await runMain(['migrate', '--json']);
    expect(notJson).toMatchObject({ code: 2 });
    expect(notJson.stderr).toMatch(/^tokenwise: Unknown option '--json' for "migrate": it is an option of doctor, /);
    const misspelt = await runMain(['user', 'create', '--org', 'acme', '--emial', 'a@acme.test']);
    expect(misspelt).toMatchObject({ code: 2 });
    expect(misspelt.stderr).toMatch(
      /^tokenwise: Unknown option '--emial' for "user create"\. Did you mean --email\?\n/,
    );
  });

  it('refuses a missing required option, a missing value and an extra argument with the usage exit code', async () => {
    const missing = await runMain(['keys', 'create', '--user', 'a@acme.test']);
    expect(missing).toMatchObject({ code: 2, stdout: '' });
    expect(missing.stderr).toMatch(/^tokenwise: --org is required\.\n\nUsage: tokenwise keys create \[options\]/);
    const blank = await runMain(['grant', '--org', ' ', '--amount', '1']);
    expect(blank.stderr).toMatch(/^tokenwise: --org is required\./);
    const noValue = await runMain(['keys', 'revoke', '--id']);
    expect(noValue).toMatchObject({ code: 2 });
    expect(noValue.stderr).toMatch(/^tokenwise: Option '--id <id>' argument missing\./);
    const extra = await runMain(['ledger', 'verify', 'now']);
    expect(extra).toMatchObject({ code: 2 });
    expect(extra.stderr).toMatch(/^tokenwise: Unexpected argument "now" after "ledger verify"\./);
    const none = await runMain([]);
    expect(none).toMatchObject({ code: 2 });
    expect(none.stderr).toMatch(/^tokenwise: No command given\.\n\nUsage: tokenwise/);
    const groupAlone = await runMain(['keys']);
    expect(groupAlone).toMatchObject({ code: 2, stdout: '' });
    expect(groupAlone.stderr).toMatch(/^Usage: tokenwise keys/);
  });
});
