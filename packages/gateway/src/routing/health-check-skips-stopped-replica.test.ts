import { startVllmSim, type VllmSim } from '@tokenwise/vllm-sim';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createRouter } from './router';
import { clusterConfig } from './routing-test-kit';
import { type ClusterConfig } from './types';

const sims: VllmSim[] = [];

async function twoSims(): Promise<[VllmSim, VllmSim]> {
  const started = await Promise.all([startVllmSim({ model: 'sim-model' }), startVllmSim({ model: 'sim-model' })]);
  sims.push(...started);
  return started as [VllmSim, VllmSim];
}

function simCluster(a: VllmSim, b: VllmSim): ClusterConfig {
  return {
    ...clusterConfig({ models: ['sim-model'], maxConcurrencyPerReplica: 4 }),
    replicas: [
      { id: 'sim-a', url: a.url },
      { id: 'sim-b', url: b.url },
    ],
  };
}

afterEach(async () => {
  await Promise.all(sims.splice(0).map((sim) => sim.close().catch(() => undefined)));
});

describe('health checks against real vllm-sim replicas', () => {
  it('marks a stopped replica unhealthy and routes every request to the other', async () => {
    const [a, b] = await twoSims();
    const router = createRouter({ clusters: [simCluster(a, b)], healthCheckIntervalMs: 3_600_000 });
    await router.checkHealth();
    expect(router.snapshot().replicas.map((replica) => replica.healthy)).toEqual([true, true]);
    await a.close();
    await router.checkHealth();
    expect(router.snapshot().replicas.map((replica) => [replica.id, replica.healthy])).toEqual([
      ['sim-a', false],
      ['sim-b', true],
    ]);
    const leases = await Promise.all([1, 2, 3, 4].map(() => router.acquire('sim-model', 'normal')));
    expect(leases.map((lease) => lease.replica.id)).toEqual(['sim-b', 'sim-b', 'sim-b', 'sim-b']);
    const models = await fetch(`${leases[0]?.replica.url}/v1/models`);
    expect(models.status).toBe(200);
    await models.arrayBuffer();
    for (const lease of leases) lease.release({ ok: true });
    await router.close();
  });

  it('notices the stop on its own interval and recovers when a replica is healthy again', async () => {
    const [a, b] = await twoSims();
    const health = { status: 200 };
    const realFetch: typeof fetch = (input, init) =>
      health.status === 200 ? fetch(input, init) : Promise.resolve(new Response(null, { status: health.status }));
    const router = createRouter({ clusters: [simCluster(a, b)], healthCheckIntervalMs: 20, fetch: realFetch });
    await b.close();
    await vi.waitFor(
      () => expect(router.snapshot().replicas.find((replica) => replica.id === 'sim-b')?.healthy).toBe(false),
      { timeout: 5_000, interval: 10 },
    );
    health.status = 503;
    await vi.waitFor(
      () => expect(router.snapshot().replicas.find((replica) => replica.id === 'sim-a')?.healthy).toBe(false),
      { timeout: 5_000, interval: 10 },
    );
    const waiting = router.acquire('sim-model', 'urgent');
    health.status = 200;
    const lease = await waiting;
    expect(lease.replica.id).toBe('sim-a');
    lease.release({ ok: true });
    await router.close();
  });
});
