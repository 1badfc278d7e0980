import { migrationsFolder } from '@tokenwise/db';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runTokenwise } from './test-kit';

const migrationCount = JSON.parse(readFileSync(join(migrationsFolder, 'meta', '_journal.json'), 'utf8')).entries
  .length as number;

const tokenwise = (args: string[], env: NodeJS.ProcessEnv) => runTokenwise(args, { env });

describe('the tokenwise command', () => {
  let dataDir: string;
  let env: NodeJS.ProcessEnv;
  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'tw-cli-'));
    env = { TOKENWISE_DATA_DIR: dataDir, DATABASE_URL: '', TEMPORAL_ADDRESS: undefined };
  });
  afterAll(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  it('migrates the embedded database, then reports it up to date', async () => {
    const first = await tokenwise(['migrate'], env);
    expect(first.stderr).toBe('');
    expect(first).toMatchObject({
      code: 0,
      stdout: expect.stringContaining(`Applied ${migrationCount} migration(s) to pglite`),
    });
    const second = await tokenwise(['migrate'], env);
    expect(second).toMatchObject({
      code: 0,
      stdout: expect.stringContaining(`is up to date: ${migrationCount} migrations applied`),
    });
  });

  it('doctor reports the Node version, the database and its migration state as JSON', async () => {
    const result = await tokenwise(['doctor', '--json'], env);
    const report = JSON.parse(result.stdout) as { checks: { name: string; status: string; detail: string }[] };
    const byName = Object.fromEntries(report.checks.map((check) => [check.name, check]));
    expect(byName['Node.js']).toMatchObject({ status: 'ok', detail: `v${process.versions.node}` });
    expect(byName.Database).toMatchObject({
      status: 'ok',
      detail: expect.stringContaining(`migrations: ${migrationCount}/${migrationCount} applied, none pending`),
    });
    expect(byName.Platform).toMatchObject({ detail: expect.stringMatching(/not running/) });
    expect(result.code).toBe(0);
  });

  it('exits 2 with the usage for an unknown command or option, and 1 for bad configuration', async () => {
    const unknown = await tokenwise(['frobnicate'], env);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/Unknown command "frobnicate"[\s\S]*Usage: tokenwise/);
    const badOption = await tokenwise(['doctor', '--colour'], env);
    expect(badOption.code).toBe(2);
    expect(badOption.stderr).toMatch(/Unknown option '--colour'/);
    const badConfig = await tokenwise(['migrate'], { ...env, DATABASE_URL: 'mysql://nope' });
    expect(badConfig.code).toBe(1);
    expect(badConfig.stderr).toMatch(/DATABASE_URL: must be a postgres/);
  });
});
