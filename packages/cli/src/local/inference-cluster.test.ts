import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startInferenceCluster } from './inference-cluster';

describe('what npm start puts behind the gateway', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tw-clusters-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('runs a simulated cluster whose replicas answer, with prices for every model', async () => {
    const cluster = await startInferenceCluster({ vllmUrl: undefined, priorityScheduling: false });
    try {
      const models = cluster.clusters.flatMap((entry) => entry.models);
      expect(Object.keys(cluster.defaultPrices.models).sort()).toEqual([...models].sort());
      for (const replica of cluster.clusters.flatMap((entry) => entry.replicas)) {
        expect((await fetch(`${replica.url}/health`)).status).toBe(200);
      }
    } finally {
      await cluster.close();
    }
  });

  it('reads clusters from TOKENWISE_CLUSTERS_FILE, and names the bad field when one is wrong', async () => {
    const good = join(dir, 'good.json');
    await writeFile(
      good,
      JSON.stringify([
        {
          name: 'gpu-a',
          models: ['llama'],
          replicas: [{ id: 'a-0', url: 'http://10.0.0.5:8000' }],
          maxConcurrencyPerReplica: 128,
          priorityScheduling: true,
          queueDepthMax: 500,
          queueWaitMsMax: 10_000,
          region: 'eu-north-1',
          gridIntensityGCo2ePerKwh: 30,
        },
      ]),
    );
    const cluster = await startInferenceCluster({
      clustersFile: good,
      vllmUrl: 'http://ignored:1',
      priorityScheduling: false,
    });
    expect(cluster.clusters[0]).toMatchObject({ name: 'gpu-a', models: ['llama'], priorityScheduling: true });
    const bad = join(dir, 'bad.json');
    await writeFile(
      bad,
      JSON.stringify([
        {
          name: 'gpu-a',
          models: ['llama'],
          replicas: [{ id: 'a-0', url: 'http://10.0.0.5:8000/v1' }],
          maxConcurrencyPerReplica: 128,
          priorityScheduling: true,
          queueDepthMax: 500,
          queueWaitMsMax: 10_000,
          region: 'x',
          gridIntensityGCo2ePerKwh: 30,
        },
      ]),
    );
    await expect(
      startInferenceCluster({ clustersFile: bad, vllmUrl: undefined, priorityScheduling: false }),
    ).rejects.toThrow(/replicas\.0\.url/);
    await expect(
      startInferenceCluster({ clustersFile: join(dir, 'missing.json'), vllmUrl: undefined, priorityScheduling: false }),
    ).rejects.toThrow(/cannot be read/);
  });
});
