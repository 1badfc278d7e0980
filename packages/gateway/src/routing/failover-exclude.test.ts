import { describe, expect, it } from 'vitest';
import { NoHealthyReplicaError, QueueTimeoutError } from './errors';
import { clusterConfig, switchableHealth, testRouter } from './routing-test-kit';

describe('failover with exclude', () => {
  it('never uses an excluded replica', async () => {
    const router = testRouter([clusterConfig({ maxConcurrencyPerReplica: 4 }, ['r1', 'r2'])]);
    const leases = await Promise.all([1, 2, 3].map(() => router.acquire('m1', 'normal', { exclude: new Set(['r1']) })));
    expect(leases.map((lease) => lease.replica.id)).toEqual(['r2', 'r2', 'r2']);
    for (const lease of leases) lease.release({ ok: true });
    await router.close();
  });

  it('refuses at once with NoHealthyReplicaError when every replica is excluded', async () => {
    const router = testRouter([clusterConfig({}, ['r1', 'r2'])]);
    const holder = await router.acquire('m1', 'normal');
    await expect(router.acquire('m1', 'urgent', { exclude: new Set(['r1', 'r2']) })).rejects.toMatchObject({
      code: 'NO_HEALTHY_REPLICA',
    });
    expect(router.queueDepth('m1')).toBe(0);
    holder.release({ ok: true });
    await router.close();
  });

  it('lets waiters behind a failover waiter take the replica it excludes', async () => {
    const router = testRouter([clusterConfig({}, ['r1', 'r2'])]);
    const [onR1, onR2] = await Promise.all([router.acquire('m1', 'normal'), router.acquire('m1', 'normal')]);
    expect([onR1?.replica.id, onR2?.replica.id]).toEqual(['r1', 'r2']);
    const failover = router.acquire('m1', 'urgent', { exclude: new Set(['r1']) });
    const plain = router.acquire('m1', 'low');
    onR1?.release({ ok: false });
    expect((await plain).replica.id).toBe('r1');
    expect(router.queueDepth('m1')).toBe(1);
    onR2?.release({ ok: true });
    expect((await failover).replica.id).toBe('r2');
    await router.close();
  });

  it('waits instead of failing while every replica is unhealthy, and serves once one recovers', async () => {
    const health = switchableHealth(503);
    const router = testRouter([clusterConfig({ queueWaitMsMax: 20 }, ['r1', 'r2'])], { fetch: health.fetch });
    await router.checkHealth();
    expect(router.snapshot().replicas.map((replica) => replica.healthy)).toEqual([false, false]);
    await expect(router.acquire('m1', 'urgent')).rejects.toBeInstanceOf(QueueTimeoutError);
    await router.close();

    const patient = testRouter([clusterConfig({}, ['r1', 'r2'])], { fetch: health.fetch });
    await patient.checkHealth();
    const waiting = patient.acquire('m1', 'normal');
    expect(patient.queueDepth('m1')).toBe(1);
    health.setStatus(200);
    await patient.checkHealth();
    const lease = await waiting;
    expect(['r1', 'r2']).toContain(lease.replica.id);
    lease.release({ ok: true });
    await patient.close();
  });

  it('fails the close of a waiting router with NoHealthyReplicaError, not a timeout', async () => {
    const health = switchableHealth(503);
    const router = testRouter([clusterConfig()], { fetch: health.fetch });
    await router.checkHealth();
    const waiting = router.acquire('m1', 'normal').catch((error: unknown) => error);
    await router.close();
    expect(await waiting).toBeInstanceOf(NoHealthyReplicaError);
  });
});
