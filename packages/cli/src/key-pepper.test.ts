import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from './config';
import { loadKeyPepper } from './key-pepper';

describe('the API key pepper', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tw-pepper-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('comes from TOKENWISE_KEY_PEPPER when set, and refuses one shorter than 32 bytes or not hex', async () => {
    const hex = 'ab'.repeat(32);
    expect(
      (await loadKeyPepper(loadConfig({ TOKENWISE_DATA_DIR: dir, TOKENWISE_KEY_PEPPER: hex }))).toString('hex'),
    ).toBe(hex);
    expect(() => loadConfig({ TOKENWISE_KEY_PEPPER: 'ab'.repeat(31) })).toThrow(
      /TOKENWISE_KEY_PEPPER: must be at least 32 bytes as hex/,
    );
    expect(() => loadConfig({ TOKENWISE_KEY_PEPPER: 'zz'.repeat(32) })).toThrow(/TOKENWISE_KEY_PEPPER/);
  });

  it('is created owner-only under the data dir on first use and read back after', async () => {
    const config = loadConfig({ TOKENWISE_DATA_DIR: join(dir, 'fresh') });
    expect(config.keyPepperPath).toBe(join(dir, 'fresh', 'key-pepper'));
    const [first, racing] = await Promise.all([loadKeyPepper(config), loadKeyPepper(config)]);
    expect(first.length).toBe(32);
    expect(racing.equals(first)).toBe(true);
    expect((await stat(config.keyPepperPath)).mode & 0o777).toBe(0o600);
    expect((await loadKeyPepper(config)).equals(first)).toBe(true);
    expect((await readFile(config.keyPepperPath, 'utf8')).trim()).toBe(first.toString('hex'));
  });

  it('refuses a damaged pepper file instead of replacing it (every key depends on it)', async () => {
    const config = loadConfig({ TOKENWISE_DATA_DIR: join(dir, 'damaged') });
    await loadKeyPepper(config);
    await writeFile(config.keyPepperPath, 'abcd\n');
    await expect(loadKeyPepper(config)).rejects.toThrow(/must hold at least 32 bytes as hex: restore it from a backup/);
  });
});
