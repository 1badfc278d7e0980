import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { temporalCliGoPin, temporalCliPin } from './pinned-binaries';
import { ensureTemporalCli, ProvisionError, sha256File } from './provision';

describe('Temporal CLI provisioning', () => {
  let dir: string;
  let env: NodeJS.ProcessEnv;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tw-provision-'));
    // No temporal on PATH, an empty cache: only what the test puts there exists.
    env = { PATH: '/usr/bin:/bin', TOKENWISE_CACHE_DIR: dir };
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('uses TEMPORAL_CLI when it points at an executable, and says what is wrong when it does not', async () => {
    const fake = join(dir, 'my-temporal');
    await writeFile(fake, '#!/bin/sh\necho temporal version 0\n', { mode: 0o755 });
    expect(await ensureTemporalCli({ env: { ...env, TEMPORAL_CLI: fake } })).toEqual({ path: fake, source: 'env' });
    await expect(ensureTemporalCli({ env: { ...env, TEMPORAL_CLI: join(dir, 'missing') } })).rejects.toThrow(
      /TEMPORAL_CLI=.*missing is not an executable file/,
    );
  });

  it('refuses a cached binary whose sha256 differs from the pin, even with a forged marker', async () => {
    const cached = join(dir, 'temporal-cli', temporalCliPin.version, 'temporal');
    await mkdir(join(dir, 'temporal-cli', temporalCliPin.version), { recursive: true });
    await writeFile(cached, '#!/bin/sh\necho tampered\n', { mode: 0o755 });
    await writeFile(`${cached}.verified`, '1:1\n');
    await expect(ensureTemporalCli({ env, install: false })).rejects.toThrow(ProvisionError);
    expect(await sha256File(cached)).not.toBe(temporalCliPin.sha256ByPlatform['linux-x64']);
  });

  it('uses a Go build from the cache only while its sha256 is the one recorded when it was built', async () => {
    const goDir = join(dir, 'temporal-cli', `go-${temporalCliGoPin.version}`);
    const built = join(goDir, 'temporal');
    await mkdir(goDir, { recursive: true });
    await writeFile(built, '#!/bin/sh\necho temporal version 1.5.1\n', { mode: 0o755 });
    await expect(ensureTemporalCli({ env, install: false })).rejects.toThrow(
      /has sha256 [0-9a-f]{64}, expected \(none was recorded when it was built\)/,
    );
    await writeFile(`${built}.sha256`, `${await sha256File(built)}\n`);
    expect(await ensureTemporalCli({ env, install: false })).toEqual({ path: built, source: 'cache' });
    await writeFile(built, '#!/bin/sh\necho temporal version 1.5.2\n', { mode: 0o755 });
    await expect(ensureTemporalCli({ env, install: false })).rejects.toThrow(
      /Temporal CLI \(source build\) at .*temporal has sha256/,
    );
  });
});
