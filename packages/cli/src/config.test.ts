import { ConfigError } from '@tokenwise/core';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from './config';

describe('configuration from the environment', () => {
  it('defaults to embedded PGlite under .tokenwise and a local Temporal', () => {
    const config = loadConfig({}, '/srv/app');
    expect(config).toMatchObject({
      dataDir: '/srv/app/.tokenwise',
      pgliteDir: '/srv/app/.tokenwise/pg',
      databaseUrl: undefined,
      temporalAddress: undefined,
      temporalNamespace: 'default',
    });
  });

  it('listens on loopback, puts the API next to the gateway, and leaves the gateway URL to the worker by default', () => {
    expect(loadConfig({}, '/srv/app')).toMatchObject({
      gatewayPort: 4000,
      gatewayHost: '127.0.0.1',
      apiPort: 4001,
      apiHost: '127.0.0.1',
      gatewayUrl: undefined,
    });
    expect(loadConfig({ TOKENWISE_GATEWAY_PORT: '0' }, '/srv/app').apiPort).toBe(0);
    const container = loadConfig(
      {
        TOKENWISE_GATEWAY_HOST: '0.0.0.0',
        TOKENWISE_API_HOST: '::',
        TOKENWISE_API_PORT: '3000',
        TOKENWISE_GATEWAY_URL: 'http://gateway:4000',
      },
      '/srv/app',
    );
    expect(container).toMatchObject({
      gatewayHost: '0.0.0.0',
      apiHost: '::',
      apiPort: 3000,
      gatewayUrl: 'http://gateway:4000',
    });
    expect(() => loadConfig({ TOKENWISE_GATEWAY_URL: 'http://gateway:4000/v1' })).toThrow(
      /TOKENWISE_GATEWAY_URL: must be the base URL of a gateway without \/v1/,
    );
    expect(() => loadConfig({ TOKENWISE_API_HOST: 'http://x' })).toThrow(
      /TOKENWISE_API_HOST: must be an IP address or host name/,
    );
  });

  it('names the key and what is allowed when a value is bad', () => {
    expect(() => loadConfig({ DATABASE_URL: 'mysql://x' })).toThrow(
      /DATABASE_URL: must be a postgres:\/\/ or postgresql:\/\/ URL/,
    );
    expect(() => loadConfig({ TEMPORAL_ADDRESS: 'localhost' })).toThrow(/TEMPORAL_ADDRESS: must be host:port/);
    expect(() => loadConfig({ TEMPORAL_UI_PORT: '70000' })).toThrow(ConfigError);
  });
});

describe('configuration from tokenwise.config.json under environment overrides', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tw-config-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });
  const write = async (name: string, body: unknown) => {
    await writeFile(join(dir, name), typeof body === 'string' ? body : JSON.stringify(body));
    return join(dir, name);
  };

  it('reads ./tokenwise.config.json when present, paths relative to the file, and the environment wins', async () => {
    await write('tokenwise.config.json', {
      dataDir: 'state',
      databaseUrl: 'postgres://tw@db:5432/tokenwise',
      temporal: { address: 'temporal:7233', namespace: 'prod', uiPort: 0 },
      gateway: { port: 4100, host: '0.0.0.0', url: 'http://gw:4100' },
      api: { port: 3100, host: '0.0.0.0' },
      vllm: { url: 'http://gpu-1:8000', priorityScheduling: true, clustersFile: 'clusters.json' },
    });
    const config = loadConfig({ TEMPORAL_NAMESPACE: 'staging', TOKENWISE_GATEWAY_PORT: '4200' }, dir);
    expect(config).toMatchObject({
      dataDir: join(dir, 'state'),
      databaseUrl: 'postgres://tw@db:5432/tokenwise',
      temporalAddress: 'temporal:7233',
      temporalNamespace: 'staging',
      temporalUiPort: 0,
      gatewayPort: 4200,
      gatewayHost: '0.0.0.0',
      gatewayUrl: 'http://gw:4100',
      apiPort: 3100,
      apiHost: '0.0.0.0',
      vllmUrl: 'http://gpu-1:8000',
      vllmPriorityScheduling: true,
      clustersFile: join(dir, 'clusters.json'),
    });
    // An empty variable is still an override: it clears the file's database URL.
    expect(loadConfig({ DATABASE_URL: '' }, dir).databaseUrl).toBeUndefined();
  });

  it('reads the file named by TOKENWISE_CONFIG and refuses a missing one', async () => {
    const path = await write('other.json', { gateway: { port: 4300 } });
    expect(loadConfig({ TOKENWISE_CONFIG: path }, '/').gatewayPort).toBe(4300);
    expect(() => loadConfig({ TOKENWISE_CONFIG: join(dir, 'missing.json') }, '/')).toThrow(
      /TOKENWISE_CONFIG: .*missing\.json does not exist/,
    );
  });

  it('names the file key, its variable and what is allowed when a value is bad', async () => {
    const path = await write('bad.json', { temporal: { uiPort: 70_000 }, vllm: { priorityScheduling: 'yes' } });
    expect(() => loadConfig({ TOKENWISE_CONFIG: path }, '/')).toThrow(
      `temporal.uiPort in ${path} (TEMPORAL_UI_PORT): Too big: expected number to be <=65535`,
    );
    expect(() => loadConfig({ TOKENWISE_CONFIG: path }, '/')).toThrow(
      `vllm.priorityScheduling in ${path} (VLLM_PRIORITY_SCHEDULING): must be true or false`,
    );
    // The environment's value replaces the file's bad one, and is named as the variable when bad.
    expect(() =>
      loadConfig({ TOKENWISE_CONFIG: path, TEMPORAL_UI_PORT: '1', VLLM_PRIORITY_SCHEDULING: 'maybe' }, '/'),
    ).toThrow(/^Invalid configuration:\n {2}VLLM_PRIORITY_SCHEDULING: must be true or false$/);
  });

  it('refuses unknown keys, secrets in the file and a file that is not JSON', async () => {
    const path = await write('unknown.json', { gateway: { port: 4000, tls: true }, ledgerKey: 'ab'.repeat(32) });
    expect(() => loadConfig({ TOKENWISE_CONFIG: path }, '/')).toThrow(
      /\(top level\): unknown key\(s\) ledgerKey; allowed keys are dataDir, databaseUrl, temporal\.address/,
    );
    expect(() => loadConfig({ TOKENWISE_CONFIG: path }, '/')).toThrow(/gateway: unknown key\(s\) tls; /);
    const broken = await write('broken.json', '{ "gateway": ');
    expect(() => loadConfig({ TOKENWISE_CONFIG: broken }, '/')).toThrow(ConfigError);
    expect(() => loadConfig({ TOKENWISE_CONFIG: broken }, '/')).toThrow(`Invalid configuration file ${broken}: `);
  });
});
