import { ConfigError } from '@tokenwise/core';
import { describe, expect, it } from 'vitest';
import { loadConfig } from './config';

describe('configuration from the environment', () => {
  it('defaults to embedded PGlite under .tokenwise and a local Temporal', () => {
    const config = loadConfig({}, '/srv/app');
    expect(config).toMatchObject({ dataDir: '/srv/app/.tokenwise', pgliteDir: '/srv/app/.tokenwise/pg', databaseUrl: undefined, temporalAddress: undefined, temporalNamespace: 'default' });
  });

  it('names the key and what is allowed when a value is bad', () => {
    expect(() => loadConfig({ DATABASE_URL: 'mysql://x' })).toThrow(/DATABASE_URL: must be a postgres:\/\/ or postgresql:\/\/ URL/);
    expect(() => loadConfig({ TEMPORAL_ADDRESS: 'localhost' })).toThrow(/TEMPORAL_ADDRESS: must be host:port/);
    expect(() => loadConfig({ TEMPORAL_UI_PORT: '70000' })).toThrow(ConfigError);
  });
});
