import { ValidationError } from '@tokenwise/core';
import { describe, expect, it } from 'vitest';
import { parseClusterConfigs } from '@tokenwise/control';
import { createRouter } from './router';
import { clusterConfig } from './routing-test-kit';

function messageOf(input: unknown): string {
  try {
    parseClusterConfigs(input);
  } catch (error) {
    expect(error).toBeInstanceOf(ValidationError);
    return (error as ValidationError).message;
  }
  throw new Error('expected the config to be refused');
}

describe('cluster config schema', () => {
  it('accepts a valid config and strips a trailing slash from URLs', () => {
    const config = clusterConfig({ pue: 1.2 });
    config.replicas[0] = { id: 'r1', url: 'https://vllm.internal:8000/' };
    expect(parseClusterConfigs([config])[0]?.replicas[0]?.url).toBe('https://vllm.internal:8000');
  });

  it('names a replica id used twice', () => {
    const other = clusterConfig({ name: 'c2', models: ['m2'] });
    expect(messageOf([clusterConfig(), other])).toMatch(
      /1\.replicas\.0\.id: "r1" is already a replica id in cluster "c1"/,
    );
  });

  it('accepts a model served by two clusters, and names a model listed twice in one', () => {
    const other = clusterConfig({ name: 'c2' }, ['r9']);
    expect(parseClusterConfigs([clusterConfig(), other]).map((cluster) => cluster.models)).toEqual([['m1'], ['m1']]);
    expect(messageOf([clusterConfig({ models: ['m1', 'm2', 'm1'] })])).toMatch(
      /0\.models\.2: "m1" is listed twice in cluster "c1"/,
    );
  });

  it('names a duplicate cluster name', () => {
    expect(messageOf([clusterConfig(), clusterConfig({ models: ['m2'] }, ['r2'])])).toMatch(
      /1\.name: "c1" names two clusters/,
    );
  });

  it('names limits that are not positive integers', () => {
    const message = messageOf([clusterConfig({ maxConcurrencyPerReplica: 0, queueDepthMax: 1.5, queueWaitMsMax: -1 })]);
    expect(message).toMatch(/0\.maxConcurrencyPerReplica: must be at least 1 requests/);
    expect(message).toMatch(/0\.queueDepthMax: must be a positive integer requests/);
    expect(message).toMatch(/0\.queueWaitMsMax: must be at least 1 ms/);
  });

  it('names URLs that are not http(s) base URLs', () => {
    const ftp = clusterConfig();
    ftp.replicas[0] = { id: 'r1', url: 'ftp://10.0.0.5' };
    expect(messageOf([ftp])).toMatch(/0\.replicas\.0\.url: must be an http\(s\) base URL/);
    const withV1 = clusterConfig();
    withV1.replicas[0] = { id: 'r1', url: 'http://10.0.0.5:8000/v1' };
    expect(messageOf([withV1])).toMatch(/0\.replicas\.0\.url: must be the base URL without \/v1/);
  });

  it('names missing and unknown fields', () => {
    const { region: _region, ...withoutRegion } = clusterConfig();
    expect(messageOf([{ ...withoutRegion, replica: [] }])).toMatch(/0\.region: .*; .*replica/);
    expect(messageOf([])).toMatch(/clusters: must list at least one cluster/);
  });

  it('makes createRouter refuse a bad config before starting anything', () => {
    expect(() => createRouter({ clusters: [clusterConfig({ replicas: [] })] })).toThrow(
      /0\.replicas: must list at least one replica/,
    );
  });
});
