import { describe, expect, it } from 'vitest';
import { clusterConfig, manualClock, testRouter } from './routing-test-kit';

describe('disabling a cluster or replica on a running router', () => {
  it('hides a disabled cluster from new requests and brings it back with its circuits as they were', async () => {
    const clock = manualClock();
    const router = testRouter([clusterConfig({}, ['r1', 'r2'])], {
      clock: clock.now,
      circuitFailuresToOpen: 1,
      circuitCooldownMs: 60_000,
    });
    const failed = await router.acquire('m1', 'normal');
    failed.release({ ok: false });
    const broken = failed.replica.id;
    const circuitOf = (id: string) => router.snapshot().replicas.find((replica) => replica.id === id)?.circuit;
    expect(circuitOf(broken)).toBe('open');

    expect(router.setAvailability('c1', { disabled: true, disabledReplicas: [] })).toBe(true);
    expect(router.models()).toEqual([]);
    expect(router.clusterFor('m1')).toBeUndefined();
    expect(router.setAvailability('c1', { disabled: false, disabledReplicas: [] })).toBe(true);
    expect(router.models()).toEqual(['m1']);
    expect(router.clusterFor('m1')?.name).toBe('c1');
    expect(circuitOf(broken)).toBe('open');
    expect(router.setAvailability('nope', { disabled: true, disabledReplicas: [] })).toBe(false);
    await router.close();
  });

  it('gives a disabled replica no new request, and serves waiters as soon as it is enabled again', async () => {
    const clock = manualClock();
    const router = testRouter([clusterConfig({}, ['r1', 'r2'])], {
      clock: clock.now,
      circuitFailuresToOpen: 1,
      circuitCooldownMs: 60_000,
    });
    const first = await router.acquire('m1', 'normal');
    first.release({ ok: false });
    const other = first.replica.id === 'r1' ? 'r2' : 'r1';
    router.setAvailability('c1', { disabled: false, disabledReplicas: [other] });
    let served: string | undefined;
    const waiting = router.acquire('m1', 'normal').then((lease) => {
      served = lease.replica.id;
      lease.release({ ok: true });
    });
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(served).toBeUndefined();
    expect(router.queueDepth('m1')).toBe(1);
    router.setAvailability('c1', { disabled: false, disabledReplicas: [] });
    await waiting;
    expect(served).toBe(other);
    await router.close();
  });
});

describe('adding and removing clusters on a running router', () => {
  it('serves an added cluster and drops a removed one, leaving the other clusters’ circuits and queues alone', async () => {
    const clock = manualClock();
    const router = testRouter([clusterConfig({}, ['r1'])], {
      clock: clock.now,
      circuitFailuresToOpen: 1,
      circuitCooldownMs: 60_000,
    });
    const failed = await router.acquire('m1', 'normal');
    failed.release({ ok: false });
    router.addCluster(clusterConfig({ name: 'c2', models: ['m2'] }, ['r2']));
    expect(router.models().sort()).toEqual(['m1', 'm2']);
    expect(() => router.addCluster(clusterConfig({ name: 'c2', models: ['m3'] }, ['r3']))).toThrow(
      /"c2" names two clusters/,
    );
    expect(() => router.addCluster(clusterConfig({ name: 'c3', models: ['m3'] }, ['r1']))).toThrow(
      /"r1" is already a replica id in cluster "c1"/,
    );
    const lease = await router.acquire('m2', 'normal');
    expect(lease.replica.id).toBe('r2');
    const waiting = router.acquire('m2', 'normal');
    expect(router.removeCluster('c2')).toBe(true);
    await expect(waiting).rejects.toThrow(/Cluster "c2" was removed while this request waited/);
    lease.release({ ok: true });
    expect(router.models()).toEqual(['m1']);
    await expect(router.acquire('m2', 'normal')).rejects.toThrow(/m2/);
    expect(router.snapshot().replicas).toEqual([expect.objectContaining({ id: 'r1', circuit: 'open' })]);
    expect(router.removeCluster('c2')).toBe(false);
    await router.close();
  });
});

describe('changing the replicas of a running cluster', () => {
  it('keeps a kept replica’s circuit and requests in flight, serves a new one, and lets a removed one finish its lease', async () => {
    const clock = manualClock();
    const router = testRouter([clusterConfig({}, ['r1', 'r2'])], {
      clock: clock.now,
      circuitFailuresToOpen: 1,
      circuitCooldownMs: 60_000,
    });
    const failed = await router.acquire('m1', 'normal');
    failed.release({ ok: false });
    const broken = failed.replica.id;
    const healthy = broken === 'r1' ? 'r2' : 'r1';
    const busy = await router.acquire('m1', 'normal');
    expect(busy.replica.id).toBe(healthy);
    const kept = clusterConfig({}, ['r1', 'r2']).replicas.find((replica) => replica.id === broken);
    if (kept === undefined) throw new Error('no kept replica');
    expect(router.setReplicas('c1', [kept, { id: 'r9', url: 'http://127.0.0.1:9009' }])).toBe(true);
    const snapshot = router.snapshot().replicas;
    expect(snapshot.map((replica) => [replica.id, replica.circuit])).toEqual([
      [broken, 'open'],
      ['r9', 'closed'],
    ]);
    const next = await router.acquire('m1', 'normal');
    expect(next.replica.id).toBe('r9');
    busy.release({ ok: true });
    next.release({ ok: true });
    expect(() => router.setReplicas('c1', [])).toThrow(/at least one replica/);
    expect(router.setReplicas('nope', [kept])).toBe(false);
    await router.close();
  });
});
