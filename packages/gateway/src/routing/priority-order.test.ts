import { describe, expect, it } from 'vitest';
import { vllmPriorityOf } from './priority';
import { clusterConfig, queueAndRelease, testRouter } from './routing-test-kit';

describe('priority queue under saturation', () => {
  it('serves urgent, high, low, low when queued as low, low, urgent, high', async () => {
    const router = testRouter([clusterConfig({ maxConcurrencyPerReplica: 1 })]);
    const holder = await router.acquire('m1', 'normal');
    const served: string[] = [];
    const waiting = [
      queueAndRelease(router, served, 'low-1', 'low'),
      queueAndRelease(router, served, 'low-2', 'low'),
      queueAndRelease(router, served, 'urgent', 'urgent'),
      queueAndRelease(router, served, 'high', 'high'),
    ];
    expect(router.queueDepth('m1')).toBe(4);
    holder.release({ ok: true });
    const leases = await Promise.all(waiting);
    expect(served).toEqual(['urgent', 'high', 'low-1', 'low-2']);
    expect(leases.map((lease) => lease.vllmPriority)).toEqual([3, 3, 0, 1]);
    expect(router.queueDepth('m1')).toBe(0);
    await router.close();
  });

  it('is FIFO within a tier, across the models of one cluster', async () => {
    const router = testRouter([clusterConfig({ models: ['m1', 'm2'] })]);
    const holder = await router.acquire('m1', 'urgent');
    const served: string[] = [];
    const labels = ['a', 'b', 'c', 'd', 'e', 'f'];
    const waiting = labels.map((label, index) =>
      queueAndRelease(router, served, label, 'normal', index % 2 === 0 ? 'm1' : 'm2'),
    );
    expect([router.queueDepth('m1'), router.queueDepth('m2')]).toEqual([3, 3]);
    holder.release({ ok: true });
    await Promise.all(waiting);
    expect(served).toEqual(labels);
    await router.close();
  });

  it('maps tiers to vLLM priorities, and sends none to clusters without priority scheduling', async () => {
    expect((['urgent', 'high', 'normal', 'low'] as const).map(vllmPriorityOf)).toEqual([0, 1, 2, 3]);
    const router = testRouter([clusterConfig({ priorityScheduling: false })]);
    const lease = await router.acquire('m1', 'urgent');
    expect(lease.vllmPriority).toBeUndefined();
    expect(lease.replica).toEqual({ id: 'r1', url: 'http://127.0.0.1:9000', cluster: 'c1' });
    lease.release({ ok: true });
    await router.close();
  });
});
