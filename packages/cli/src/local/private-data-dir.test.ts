import { chmod, mkdir, mkdtemp, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { describeLoosePaths, findLoosePaths, makeDataDirPrivate } from './private-data-dir';

const modeOf = async (path: string) => (await stat(path)).mode & 0o777;

describe('making the data dir private', () => {
  let parent: string;
  let dataDir: string;
  beforeEach(async () => {
    parent = await mkdtemp(join(tmpdir(), 'tw-private-dir-'));
    dataDir = join(parent, 'nested', '.tokenwise');
  });
  afterEach(async () => {
    await rm(parent, { recursive: true, force: true });
  });

  it('creates a missing data dir 0700 whatever the umask allows', async () => {
    await makeDataDirPrivate(dataDir);
    expect(await modeOf(dataDir)).toBe(0o700);
    expect(await findLoosePaths(dataDir)).toEqual({ loose: [], complete: true });
  });

  it('chmods what the platform wrote, but neither a file it did not write nor the target of a symlink', async () => {
    await mkdir(join(dataDir, 'pg', 'base'), { recursive: true });
    await writeFile(join(dataDir, 'pg', 'base', '1259'), '', { mode: 0o666 });
    await chmod(join(dataDir, 'pg', 'base', '1259'), 0o666);
    await writeFile(join(dataDir, 'notes.txt'), 'mine\n', { mode: 0o644 });
    const outside = join(parent, 'elsewhere.json');
    await writeFile(outside, '{}\n', { mode: 0o644 });
    await symlink(outside, join(dataDir, 'dev.json'));

    await makeDataDirPrivate(dataDir);
    expect(await modeOf(join(dataDir, 'pg', 'base', '1259'))).toBe(0o600);
    expect(await modeOf(join(dataDir, 'pg'))).toBe(0o700);
    expect(await modeOf(outside)).toBe(0o644);
    const { loose } = await findLoosePaths(dataDir);
    expect(loose).toEqual([{ path: join(dataDir, 'notes.txt'), mode: 0o644 }]);
  });

  it('names at most ten loose paths with their modes and gives a chmod that works on any path', () => {
    const dir = "/home/o'neil/.tokenwise";
    const loose = Array.from({ length: 12 }, (_, index) => ({ path: `${dir}/pg/base/${index}`, mode: 0o666 }));
    const text = describeLoosePaths(dir, loose);
    expect(text).toContain(`${dir}/pg/base/0 (0666)`);
    expect(text).not.toContain(`${dir}/pg/base/10 `);
    expect(text).toContain('and 2 more');
    expect(text).toContain(`chmod -R go-rwx '/home/o'\\''neil/.tokenwise'`);
  });
});
