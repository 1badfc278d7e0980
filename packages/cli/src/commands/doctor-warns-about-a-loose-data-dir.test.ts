import { execFile } from 'node:child_process';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const bin = fileURLToPath(new URL('../../bin/tokenwise.mjs', import.meta.url));

interface Check {
  name: string;
  status: string;
  detail: string;
}

/** `tokenwise doctor --json` on `dataDir`, as a user runs it. */
async function doctor(dataDir: string, cwd: string): Promise<Check | undefined> {
  const { DATABASE_URL: _database, TEMPORAL_ADDRESS: _temporal, TOKENWISE_CONFIG: _config, ...env } = process.env;
  const { stdout } = await promisify(execFile)(process.execPath, [bin, 'doctor', '--json'], {
    cwd,
    env: { ...env, TOKENWISE_DATA_DIR: dataDir },
  }).catch((error: { stdout?: string }) => ({ stdout: error.stdout ?? '' }));
  return (JSON.parse(stdout) as { checks: Check[] }).checks.find((check) => check.name === 'Data dir');
}

describe('tokenwise doctor on the data dir', { timeout: 60_000 }, () => {
  let parent: string;
  let dataDir: string;
  beforeAll(async () => {
    parent = await mkdtemp(join(tmpdir(), 'tw-doctor-'));
    dataDir = join(parent, '.tokenwise');
    await mkdir(dataDir, { mode: 0o700 });
    await chmod(dataDir, 0o700);
    await writeFile(join(dataDir, 'ledger.key'), `${'ab'.repeat(32)}\n`, { mode: 0o600 });
    await chmod(join(dataDir, 'ledger.key'), 0o600);
  });
  afterAll(async () => {
    await rm(parent, { recursive: true, force: true });
  });

  it('warns about a loosened file, naming its path and mode and the chmod that fixes it; ok once fixed', async () => {
    await chmod(join(dataDir, 'ledger.key'), 0o644);
    const loose = await doctor(dataDir, parent);
    expect(loose?.status).toBe('warn');
    expect(loose?.detail).toContain(`${join(dataDir, 'ledger.key')} (0644)`);
    expect(loose?.detail).toContain(`chmod -R go-rwx '${dataDir}'`);

    await chmod(join(dataDir, 'ledger.key'), 0o600);
    const fixed = await doctor(dataDir, parent);
    expect(fixed?.status).toBe('ok');
    expect(fixed?.detail).toContain(dataDir);
  });
});
