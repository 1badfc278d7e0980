import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cacheDir } from './cache-dir';
import { temporalCliPin } from './pinned-binaries';
import { ensureTemporalCli, ProvisionError } from './provision';

/** The pinned CLI as `npm test` provisioned it in the shared cache (never downloaded here). */
const sharedPinned = join(cacheDir(), 'temporal-cli', temporalCliPin.version, temporalCliPin.binaryName);

describe('a temporal on PATH', () => {
  let dir: string;
  let bin: string;
  let env: NodeJS.ProcessEnv;
  let logged: string[];
  const log = (line: string) => logged.push(line);

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tw-path-temporal-'));
    bin = join(dir, 'bin');
    await mkdir(bin);
    env = { PATH: `${bin}:/usr/bin:/bin`, TOKENWISE_CACHE_DIR: join(dir, 'cache') };
    logged = [];
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const fakeTemporal = (version: string) =>
    writeFile(join(bin, 'temporal'), `#!/bin/sh\necho "temporal version ${version} (Server 1.27.0, UI 2.36.0)"\n`, {
      mode: 0o755,
    });

  it('is not used when it reports another version than the pin, and the log says why', async () => {
    await fakeTemporal('1.3.0');
    await expect(ensureTemporalCli({ env, log, install: false })).rejects.toThrow(ProvisionError);
    expect(logged.join('\n')).toContain(
      `Ignoring ${join(bin, 'temporal')} on PATH: it reports version 1.3.0, the pinned version is ${temporalCliPin.version}`,
    );
  });

  it('is not used when it prints no version at all', async () => {
    await writeFile(join(bin, 'temporal'), '#!/bin/sh\necho hello\n', { mode: 0o755 });
    await expect(ensureTemporalCli({ env, log, install: false })).rejects.toThrow(ProvisionError);
    expect(logged.join('\n')).toMatch(/Ignoring .*temporal on PATH: it reports no version/);
  });

  it('gives way to the verified pinned binary from the cache when its version differs', async () => {
    await fakeTemporal('1.3.0');
    await mkdir(join(dir, 'cache', 'temporal-cli', temporalCliPin.version), { recursive: true });
    await symlink(sharedPinned, join(dir, 'cache', 'temporal-cli', temporalCliPin.version, temporalCliPin.binaryName));
    const found = await ensureTemporalCli({ env, log, install: false });
    expect(found.source).toBe('cache');
    expect(found.path).not.toBe(join(bin, 'temporal'));
  });

  it('is used when it reports the pinned version', async () => {
    await fakeTemporal(temporalCliPin.version);
    expect(await ensureTemporalCli({ env, log, install: false })).toEqual({
      path: join(bin, 'temporal'),
      source: 'path',
    });
  });
});
