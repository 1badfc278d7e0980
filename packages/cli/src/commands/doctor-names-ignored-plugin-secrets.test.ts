import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkPluginSecrets, type Check } from './doctor';

const bin = fileURLToPath(new URL('../../bin/tokenwise.mjs', import.meta.url));

describe('tokenwise doctor on plugin secrets', { timeout: 60_000 }, () => {
  let parent: string;
  beforeAll(async () => {
    parent = await mkdtemp(join(tmpdir(), 'tw-doctor-secrets-'));
  });
  afterAll(async () => {
    await rm(parent, { recursive: true, force: true });
  });

  it('names each variable the worker would ignore, and why, without a value', async () => {
    const { DATABASE_URL: _database, TEMPORAL_ADDRESS: _temporal, TOKENWISE_CONFIG: _config, ...env } = process.env;
    const secrets = {
      TOKENWISE_SECRET_ACME__GITHUB_TOKEN: 'ghp_acme_value',
      TOKENWISE_SECRET_github_token: 'ghp_lowercase_value',
      TOKENWISE_SECRET_SHARED_TOKEN: 'ghp_shared_value',
      TOKENWISE_SECRET_GLOBEX__JUDGE_KEY: '',
    };
    const { stdout } = await promisify(execFile)(process.execPath, [bin, 'doctor', '--json'], {
      cwd: parent,
      env: { ...env, TOKENWISE_DATA_DIR: join(parent, '.tokenwise'), ...secrets },
    }).catch((error: { stdout?: string }) => ({ stdout: error.stdout ?? '' }));
    const check = (JSON.parse(stdout) as { checks: Check[] }).checks.find((found) => found.name === 'Plugin secrets');
    expect(check?.status).toBe('warn');
    expect(check?.detail).toContain('TOKENWISE_SECRET_github_token: "github_token" is not a secret name');
    expect(check?.detail).toContain('TOKENWISE_SECRET_SHARED_TOKEN is shared with no org');
    expect(check?.detail).toContain('TOKENWISE_SECRET_GLOBEX__JUDGE_KEY is empty');
    expect(check?.detail).not.toMatch(/ACME__GITHUB_TOKEN/);
    for (const value of Object.values(secrets).filter(Boolean)) expect(stdout).not.toContain(value);
  });

  it('is ok when every variable is readable as set, and says how to set one when none is', () => {
    expect(
      checkPluginSecrets({
        TOKENWISE_SECRET_ACME__GITHUB_TOKEN: 'x',
        TOKENWISE_SECRET_SHARED: 'y',
        TOKENWISE_SECRET_SHARED_ORGS: 'acme,globex',
      }),
    ).toEqual({
      name: 'Plugin secrets',
      status: 'ok',
      detail: '3 TOKENWISE_SECRET_* variables, all readable as set',
    });
    expect(checkPluginSecrets({ PATH: '/usr/bin' }).detail).toMatch(/none set .*TOKENWISE_SECRET_<ORG>__<NAME>/);
  });
});
