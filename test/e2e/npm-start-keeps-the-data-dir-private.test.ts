import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { lstat, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const bin = fileURLToPath(new URL('../../packages/cli/bin/tokenwise.mjs', import.meta.url));

/** Every path under `dir` (itself included) with its permission bits, symlinks not followed. */
async function modes(dir: string): Promise<Map<string, number>> {
  const found = new Map<string, number>();
  const visit = async (path: string): Promise<void> => {
    const info = await lstat(path).catch(() => undefined);
    if (info === undefined) return; // Removed while we looked (a temp file, a WAL segment).
    found.set(path, info.mode & 0o777);
    if (info.isDirectory()) for (const name of await readdir(path).catch(() => [])) await visit(join(path, name));
  };
  await visit(dir);
  return found;
}

/** Paths that group or other may read, write or enter, as "path 0644". */
async function looseUnder(dir: string): Promise<string[]> {
  return [...(await modes(dir))]
    .filter(([, mode]) => (mode & 0o077) !== 0)
    .map(([path, mode]) => `${path} ${mode.toString(8).padStart(4, '0')}`);
}

async function until<T>(probe: () => Promise<T | undefined>, what: string, attempts = 1_200): Promise<T> {
  for (let attempt = 0; attempt < attempts; attempt++) {
    const value = await probe();
    if (value !== undefined) return value;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`gave up waiting for ${what}`);
}

describe('npm start on a fresh data dir under a permissive umask', { timeout: 180_000 }, () => {
  let parent: string;
  let dataDir: string;
  let platform: ChildProcess;
  let output = '';
  beforeAll(async () => {
    parent = await mkdtemp(join(tmpdir(), 'tw-private-'));
    dataDir = join(parent, '.tokenwise');
    const {
      DATABASE_URL: _database,
      TEMPORAL_ADDRESS: _temporal,
      VLLM_URL: _vllm,
      TOKENWISE_CONFIG: _config,
      TEMPORAL_CLI: _cli,
      ...env
    } = process.env;
    // umask 022, as on most machines: the modes must not depend on a careful umask.
    platform = spawn('/bin/sh', ['-c', 'umask 022 && exec "$0" "$@"', process.execPath, bin, 'dev'], {
      cwd: parent,
      env: { ...env, TOKENWISE_DATA_DIR: dataDir, TEMPORAL_UI_PORT: '0', TOKENWISE_GATEWAY_PORT: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    platform.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    platform.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  });
  afterAll(async () => {
    if (platform.exitCode === null) platform.kill('SIGKILL');
    await rm(parent, { recursive: true, force: true });
  });

  it('creates the data dir 0700 and every file in it 0600 (PGlite, Temporal, keys, dev.json, run.json), running and stopped', async () => {
    await until(async () => {
      if (platform.exitCode !== null) throw new Error(`the platform exited with ${platform.exitCode}:\n${output}`);
      return output.includes('Press Ctrl-C to stop.') ? true : undefined;
    }, 'the platform to start');
    const running = await modes(dataDir);
    expect(running.get(dataDir)).toBe(0o700);
    for (const name of ['pg', 'temporal.db', 'ledger.key', 'key-pepper', 'dev.json', 'run.json']) {
      expect(running.has(join(dataDir, name)), `${name} exists:\n${[...running.keys()].join('\n')}`).toBe(true);
    }
    // Judge keys are minted per org and kept in memory: no judge secret is written to the data dir.
    expect(running.has(join(dataDir, 'judge-key'))).toBe(false);
    expect(running.get(join(dataDir, 'ledger.key'))).toBe(0o600);
    expect(running.get(join(dataDir, 'temporal.db'))).toBe(0o600);
    expect(await looseUnder(dataDir)).toEqual([]);

    platform.kill('SIGINT');
    const [code] = (await once(platform, 'exit')) as [number | null];
    expect(code, output).toBe(0);
    expect(await looseUnder(dataDir)).toEqual([]);
  });
});
