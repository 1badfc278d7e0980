import { describe, expect, it } from 'vitest';
import { clusterConfig, testRouter } from './routing-test-kit';

describe('replica choice', () => {
  it('sends each request to the replica with the fewest outstanding requests', async () => {
    const router = testRouter([clusterConfig({ maxConcurrencyPerReplica: 4 }, ['r1', 'r2', 'r3'])]);
    const first = await Promise.all([
      router.acquire('m1', 'normal'),
      router.acquire('m1', 'normal'),
      router.acquire('m1', 'normal'),
    ]);
    expect(first.map((lease) => lease.replica.id).sort()).toEqual(['r1', 'r2', 'r3']);
    first.find((lease) => lease.replica.id === 'r2')?.release({ ok: true });
    const next = await router.acquire('m1', 'normal');
    expect(next.replica.id).toBe('r2');
    const more = await Promise.all([
      router.acquire('m1', 'normal'),
      router.acquire('m1', 'normal'),
      router.acquire('m1', 'normal'),
    ]);
    const inFlight = Object.fromEntries(router.snapshot().replicas.map((replica) => [replica.id, replica.inFlight]));
    expect(inFlight).toEqual({ r1: 2, r2: 2, r3: 2 });
    for (const lease of [...first.filter((lease) => lease.replica.id !== 'r2'), next, ...more])
      lease.release({ ok: true });
    await router.close();
  });

  it('breaks ties round-robin', async () => {
    const router = testRouter([clusterConfig({ maxConcurrencyPerReplica: 8 }, ['r1', 'r2', 'r3'])]);
    const chosen: string[] = [];
    for (let i = 0; i < 6; i++) {
      const lease = await router.acquire('m1', 'normal');
      chosen.push(lease.replica.id);
      lease.release({ ok: true });
    }
    expect(chosen).toEqual(['r1', 'r2', 'r3', 'r1', 'r2', 'r3']);
    await router.close();
  });

  it('wakes a waiter when a slot frees on any replica of the cluster', async () => {
    const router = testRouter([clusterConfig({}, ['r1', 'r2'])]);
    const [a, b] = await Promise.all([router.acquire('m1', 'normal'), router.acquire('m1', 'normal')]);
    const waiting = router.acquire('m1', 'low');
    expect(router.queueDepth('m1')).toBe(1);
    const onR2 = a?.replica.id === 'r2' ? a : b;
    onR2?.release({ ok: true });
    expect((await waiting).replica.id).toBe('r2');
    expect(router.snapshot().replicas.map((replica) => replica.inFlight)).toEqual([1, 1]);
    await router.close();
  });
});
