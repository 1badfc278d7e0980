import { describe, expect, it } from 'vitest';
import { NoHealthyReplicaError, QueueFullError, QueueTimeoutError } from './errors';
import { clusterConfig, testRouter } from './routing-test-kit';

describe('queue limits', () => {
  it('refuses with QueueFullError once queueDepthMax requests wait for the model', async () => {
    const router = testRouter([clusterConfig({ queueDepthMax: 2 })]);
    const holder = await router.acquire('m1', 'normal');
    const waiting = [router.acquire('m1', 'low'), router.acquire('m1', 'urgent')];
    const refused = await router.acquire('m1', 'urgent').catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(QueueFullError);
    const error = refused as QueueFullError;
    expect(error.code).toBe('QUEUE_FULL');
    expect(error.retryAfterSeconds).toBeGreaterThanOrEqual(1);
    expect(error.message).toContain('"m1"');
    expect(error.message).toContain('2 requests waiting');
    expect(router.queueDepth('m1')).toBe(2);
    holder.release({ ok: true });
    (await waiting[1])?.release({ ok: true });
    (await waiting[0])?.release({ ok: true });
    await router.close();
  });

  it('rejects a waiter with QueueTimeoutError after queueWaitMsMax and takes it out of the queue', async () => {
    const router = testRouter([clusterConfig({ queueWaitMsMax: 20 })]);
    const holder = await router.acquire('m1', 'normal');
    const timedOut = await router.acquire('m1', 'urgent').catch((error: unknown) => error);
    expect(timedOut).toBeInstanceOf(QueueTimeoutError);
    expect((timedOut as QueueTimeoutError).code).toBe('QUEUE_TIMEOUT');
    expect((timedOut as QueueTimeoutError).retryAfterSeconds).toBeGreaterThanOrEqual(1);
    expect(router.queueDepth('m1')).toBe(0);
    holder.release({ ok: true });
    const next = await router.acquire('m1', 'low');
    expect(router.snapshot().replicas[0]?.inFlight).toBe(1);
    next.release({ ok: true });
    await router.close();
  });

  it('removes an aborted waiter and gives the freed slot to the next one', async () => {
    const router = testRouter([clusterConfig()]);
    const holder = await router.acquire('m1', 'normal');
    const controller = new AbortController();
    const aborted = router.acquire('m1', 'urgent', { signal: controller.signal }).catch((error: unknown) => error);
    const next = router.acquire('m1', 'low');
    controller.abort();
    expect(await aborted).toMatchObject({ name: 'AbortError' });
    expect(router.queueDepth('m1')).toBe(1);
    holder.release({ ok: true });
    const lease = await next;
    expect(lease.replica.id).toBe('r1');
    lease.release({ ok: true });
    await router.close();
  });

  it('passes the slot on when the waiter is aborted while it is being woken', async () => {
    const router = testRouter([clusterConfig()]);
    const holder = await router.acquire('m1', 'normal');
    const controller = new AbortController();
    const woken = router.acquire('m1', 'urgent', { signal: controller.signal }).catch((error: unknown) => error);
    const next = router.acquire('m1', 'low');
    // The release hands the slot to the urgent waiter synchronously; the abort lands before it resumes.
    holder.release({ ok: true });
    controller.abort();
    expect(await woken).toMatchObject({ name: 'AbortError' });
    const lease = await next;
    expect(router.snapshot().replicas[0]?.inFlight).toBe(1);
    lease.release({ ok: true });
    expect(router.snapshot().replicas[0]?.inFlight).toBe(0);
    await router.close();
  });

  it('refuses an already aborted signal without queueing', async () => {
    const router = testRouter([clusterConfig()]);
    const refused = await router
      .acquire('m1', 'normal', { signal: AbortSignal.abort() })
      .catch((error: unknown) => error);
    expect(refused).toMatchObject({ name: 'AbortError' });
    expect(router.snapshot().replicas[0]?.inFlight).toBe(0);
    await router.close();
  });

  it('rejects every waiter with NoHealthyReplicaError on close, and refuses later requests', async () => {
    const router = testRouter([clusterConfig()]);
    const holder = await router.acquire('m1', 'normal');
    const waiting = [router.acquire('m1', 'low'), router.acquire('m1', 'high')].map((p) =>
      p.catch((error: unknown) => error),
    );
    await router.close();
    for (const error of await Promise.all(waiting)) {
      expect(error).toBeInstanceOf(NoHealthyReplicaError);
      expect((error as NoHealthyReplicaError).message).toMatch(/shutting down/);
    }
    expect(router.queueDepth('m1')).toBe(0);
    await expect(router.acquire('m1', 'urgent')).rejects.toBeInstanceOf(NoHealthyReplicaError);
    holder.release({ ok: true });
  });

  it('refuses an unknown model with UnknownModelError naming the served ones', async () => {
    const router = testRouter([clusterConfig({ models: ['m1', 'm2'] })]);
    await expect(router.acquire('gpt-9', 'normal')).rejects.toMatchObject({
      code: 'UNKNOWN_MODEL',
      message: expect.stringContaining('m1, m2'),
    });
    expect(router.models()).toEqual(['m1', 'm2']);
    expect(router.clusterFor('m2')?.name).toBe('c1');
    expect(router.clusterFor('gpt-9')).toBeUndefined();
    await router.close();
  });

  it('throws when a lease is released twice', async () => {
    const router = testRouter([clusterConfig()]);
    const lease = await router.acquire('m1', 'normal');
    lease.release({ ok: true });
    expect(() => lease.release({ ok: true })).toThrow(/released twice/);
    await router.close();
  });
});
