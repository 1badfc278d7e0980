import { describe, expect, it } from 'vitest';
import { startVllmSimCluster } from './cluster';
import { fastLatency } from './test-kit';

describe('startVllmSimCluster', () => {
  it('runs one loopback server per replica of each model, each serving its model', async () => {
    const cluster = await startVllmSimCluster({
      models: [
        { model: 'small', replicas: 2, latency: fastLatency },
        { model: 'large', replicas: 1, maxModelLen: 32_768, latency: fastLatency },
      ],
    });
    try {
      expect(cluster.replicas).toHaveLength(3);
      const urls = [...cluster.urls('small'), ...cluster.urls('large')];
      expect(new Set(urls).size).toBe(3);
      expect(urls.every((url) => url.startsWith('http://127.0.0.1:'))).toBe(true);
      for (const model of ['small', 'large']) {
        for (const url of cluster.urls(model)) {
          const body = (await (await fetch(`${url}/v1/models`)).json()) as { data: Array<{ id: string }> };
          expect(body.data.map((card) => card.id)).toEqual([model]);
        }
      }
    } finally {
      await cluster.close();
    }
  });

  it('refuses a bad replica count with a message naming the model', async () => {
    await expect(startVllmSimCluster({ models: [{ model: 'm', replicas: 0 }] })).rejects.toThrow(/Model "m": replicas/);
  });
});
