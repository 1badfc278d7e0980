import { openTestDatabase } from '@tokenwise/db/testing';
import type { Database } from '@tokenwise/db';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ClusterConfig } from './cluster-config';
import { clusterConfigOf, findCluster, parseClusterConfigs, registerClusters } from './index';

const config = (overrides: Partial<ClusterConfig> = {}): ClusterConfig => ({
  name: 'gpu-moe',
  models: ['mixtral-8x7b', 'llama-3-8b'],
  replicas: [{ id: 'gpu-moe-0', url: 'http://10.0.0.5:8000' }],
  maxConcurrencyPerReplica: 32,
  priorityScheduling: false,
  queueDepthMax: 100,
  queueWaitMsMax: 10_000,
  region: 'eu-west-1',
  gridIntensityGCo2ePerKwh: 250,
  ...overrides,
});

describe('model profiles in the cluster configuration', () => {
  it('refuses a profile with more active than total parameters, or for a model the cluster does not serve, naming the field', () => {
    expect(() =>
      parseClusterConfigs([
        config({ modelProfiles: { 'mixtral-8x7b': { totalParamsBillions: 12.9, activeParamsBillions: 46.7 } } }),
      ]),
    ).toThrow(
      /0\.modelProfiles\.mixtral-8x7b\.activeParamsBillions: activeParamsBillions must be at most totalParamsBillions/,
    );
    expect(() =>
      parseClusterConfigs([
        config({ modelProfiles: { 'qwen-72b': { totalParamsBillions: 72.7, activeParamsBillions: 72.7 } } }),
      ]),
    ).toThrow(/"qwen-72b" is not among the cluster's models/);
    expect(() =>
      parseClusterConfigs([
        config({
          modelProfiles: { 'llama-3-8b': { totalParamsBillions: 8, activeParamsBillions: 8, tokensPerSecond: -1 } },
        }),
      ]),
    ).toThrow(/tokensPerSecond: must be greater than 0/);
    expect(() => parseClusterConfigs([{ ...config(), ownership: 'leased' }])).toThrow(
      /ownership: must be "owned" or "rented"/,
    );
  });

  describe('stored with the cluster', () => {
    let database: Database;
    beforeAll(async () => {
      database = await openTestDatabase('pglite');
    });
    afterAll(async () => {
      await database?.close();
    });

    it('keeps the profiles, source, market factor and ownership a gateway registers, and a changed profile is a new version', async () => {
      const db = database.db;
      const profiled = config({
        gridIntensitySource: 'Ember 2024, IE annual average',
        marketGridIntensityGCo2ePerKwh: 20,
        ownership: 'rented',
        modelProfiles: { 'mixtral-8x7b': { totalParamsBillions: 46.7, activeParamsBillions: 12.9 } },
      });
      await registerClusters(db, { clusters: [profiled], actor: 'system:gateway' });
      const stored = await findCluster(db, { name: 'gpu-moe' });
      expect(stored).toMatchObject({
        version: 1,
        gridIntensitySource: 'Ember 2024, IE annual average',
        marketGridIntensityGCo2ePerKwh: 20,
        ownership: 'rented',
        modelProfiles: { 'mixtral-8x7b': { totalParamsBillions: 46.7, activeParamsBillions: 12.9 } },
      });
      // What a gateway routes with (clusters added through the API) carries them too.
      expect(stored && clusterConfigOf(stored)).toMatchObject({
        ownership: 'rented',
        marketGridIntensityGCo2ePerKwh: 20,
        modelProfiles: { 'mixtral-8x7b': { totalParamsBillions: 46.7, activeParamsBillions: 12.9 } },
      });
      await registerClusters(db, { clusters: [profiled], actor: 'system:gateway' });
      expect((await findCluster(db, { name: 'gpu-moe' }))?.version).toBe(1);
      const both = {
        ...profiled,
        modelProfiles: {
          ...profiled.modelProfiles,
          'llama-3-8b': { totalParamsBillions: 8.03, activeParamsBillions: 8.03, tokensPerSecond: 90 },
        },
      };
      await registerClusters(db, { clusters: [both], actor: 'system:gateway' });
      expect(await findCluster(db, { name: 'gpu-moe' })).toMatchObject({
        version: 2,
        modelProfiles: { 'llama-3-8b': { totalParamsBillions: 8.03, activeParamsBillions: 8.03, tokensPerSecond: 90 } },
      });
    });
  });
});
