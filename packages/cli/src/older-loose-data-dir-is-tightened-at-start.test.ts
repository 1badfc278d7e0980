import { randomBytes } from 'node:crypto';
import { chmod, lstat, mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from './config';
import { openServices } from './services';

/** Paths under `dir` (itself included) that group or other may use, as "path 0644"; symlinks not followed. */
async function looseUnder(dir: string): Promise<string[]> {
  const loose: string[] = [];
  const visit = async (path: string): Promise<void> => {
    const info = await lstat(path).catch(() => undefined);
    if (info === undefined) return;
    if ((info.mode & 0o077) !== 0) loose.push(`${path} ${(info.mode & 0o777).toString(8).padStart(4, '0')}`);
    if (info.isDirectory()) for (const name of await readdir(path).catch(() => [])) await visit(join(path, name));
  };
  await visit(dir);
  return loose;
}

describe('a data dir left readable by an older version', () => {
  let parent: string;
  let dataDir: string;
  beforeAll(async () => {
    parent = await mkdtemp(join(tmpdir(), 'tw-loose-'));
    dataDir = join(parent, '.tokenwise');
    // What an older version left behind, readable by everyone on the machine.
    await mkdir(join(dataDir, 'pg'), { recursive: true, mode: 0o755 });
    await chmod(dataDir, 0o755);
    const hex = () => `${randomBytes(32).toString('hex')}\n`;
    const files: Record<string, string> = {
      'ledger.key': hex(),
      'key-pepper': hex(),
      'judge-key': 'tw_demo\n',
      'dev.json': '{}\n',
      'run.json': '{}\n',
      'temporal.db': '',
      'temporal.db-wal': '',
      'ledger-checkpoint.json.123.tmp': '{}\n',
    };
    for (const [name, text] of Object.entries(files)) {
      await writeFile(join(dataDir, name), text);
      await chmod(join(dataDir, name), 0o644);
    }
  });
  afterAll(async () => {
    await rm(parent, { recursive: true, force: true });
  });

  it('is made owner-only when the platform opens it, PGlite files included, and stays so after close', async () => {
    expect((await looseUnder(dataDir)).length).toBeGreaterThan(5);
    const services = await openServices(loadConfig({ TOKENWISE_DATA_DIR: dataDir }, parent));
    try {
      expect(await looseUnder(dataDir)).toEqual([]);
    } finally {
      await services.close();
    }
    expect(await looseUnder(dataDir)).toEqual([]);
  });
});
