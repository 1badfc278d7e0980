import { copyFile, mkdir, mkdtemp, open, rm, stat, utimes } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cacheDir } from './cache-dir';
import { temporalCliPin, temporalTestServerPin, type PinnedWheelBinary } from './pinned-binaries';
import {
  ensureTemporalCli,
  ensureTemporalTestServer,
  ProvisionError,
  type Log,
  type ResolvedBinary,
} from './provision';

type Ensure = (options: { env: NodeJS.ProcessEnv; log?: Log; install?: boolean }) => Promise<ResolvedBinary>;
const cases: { pin: PinnedWheelBinary; folder: string; ensure: Ensure }[] = [
  { pin: temporalCliPin, folder: 'temporal-cli', ensure: ensureTemporalCli },
  { pin: temporalTestServerPin, folder: 'temporal-test-server', ensure: ensureTemporalTestServer },
];

/** A whole second: file systems keep it exactly, so a restored mtime is byte-for-byte the old one. */
const installedAtSeconds = 1_700_000_000;

/** Changes one byte in place and puts size and mtime back, as a careful tamperer would. */
async function flipOneByteKeepingSizeAndMtime(path: string): Promise<void> {
  const before = await stat(path);
  const handle = await open(path, 'r+');
  try {
    const byte = Buffer.alloc(1);
    const offset = Math.floor(before.size / 2);
    await handle.read(byte, 0, 1, offset);
    byte[0] = (byte[0] ?? 0) ^ 0xff;
    await handle.write(byte, 0, 1, offset);
  } finally {
    await handle.close();
  }
  await utimes(path, installedAtSeconds, installedAtSeconds);
  const after = await stat(path);
  expect([after.size, after.mtimeMs]).toEqual([before.size, before.mtimeMs]);
}

describe.each(cases)('the cached $pin.label', ({ pin, folder, ensure }) => {
  let dir: string;
  let cached: string;
  // No temporal on PATH, no python3 or go: nothing can be downloaded or built here.
  const envFor = (path: string): NodeJS.ProcessEnv => ({ PATH: path, TOKENWISE_CACHE_DIR: dir });

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tw-tampered-'));
    cached = join(dir, folder, pin.version, pin.binaryName);
    await mkdir(join(dir, folder, pin.version), { recursive: true });
    // A copy of the real pinned binary that `npm test` provisioned in the shared cache.
    await copyFile(join(cacheDir(), folder, pin.version, pin.binaryName), cached);
    await utimes(cached, installedAtSeconds, installedAtSeconds);
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('is used while its sha256 matches the pin', async () => {
    expect(await ensure({ env: envFor('/usr/bin:/bin'), install: false })).toEqual({ path: cached, source: 'cache' });
  });

  it('is refused, naming both hashes, once one byte changed with its size and mtime restored', async () => {
    await flipOneByteKeepingSizeAndMtime(cached);
    const refused = ensure({ env: envFor('/usr/bin:/bin'), install: false });
    await expect(refused).rejects.toThrow(ProvisionError);
    await expect(refused).rejects.toThrow(
      new RegExp(`${cached}.*sha256 [0-9a-f]{64}.*expected ${pin.sha256ByPlatform['linux-x64']}`, 's'),
    );
  });

  it('is removed and provisioned again when provisioning is allowed', async () => {
    const logged: string[] = [];
    await expect(ensure({ env: envFor(join(dir, 'no-tools')), log: (line) => logged.push(line) })).rejects.toThrow(
      /python3/,
    );
    expect(logged.join('\n')).toMatch(/sha256 .* expected .*provisioning it again/s);
    await expect(stat(cached)).rejects.toMatchObject({ code: 'ENOENT' });
  });
});
