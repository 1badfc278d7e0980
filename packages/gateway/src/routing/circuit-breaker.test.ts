import { describe, expect, it } from 'vitest';
import { CircuitBreaker } from './circuit-breaker';
import { clusterConfig, manualClock, testRouter } from './routing-test-kit';

describe('CircuitBreaker', () => {
  it('opens after N consecutive failures, half-opens after the cooldown, and one trial decides', () => {
    const breaker = new CircuitBreaker(3, 5_000);
    breaker.finish(false, false, 0);
    breaker.finish(false, false, 0);
    breaker.finish(true, false, 0);
    breaker.finish(false, false, 0);
    breaker.finish(false, false, 0);
    expect(breaker.state(0)).toBe('closed');
    expect(breaker.finish(false, false, 1_000)).toBe(true);
    expect(breaker.state(5_999)).toBe('open');
    expect(breaker.allows(5_999)).toBe(false);
    expect(breaker.state(6_000)).toBe('half-open');
    expect(breaker.start(6_000)).toBe(true);
    expect(breaker.allows(6_000)).toBe(false);
    expect(breaker.finish(false, true, 7_000)).toBe(true);
    expect(breaker.state(11_999)).toBe('open');
    expect(breaker.start(12_000)).toBe(true);
    breaker.finish(true, true, 12_000);
    expect(breaker.state(12_000)).toBe('closed');
  });

  it('ignores outcomes of requests that started before the circuit opened', () => {
    const breaker = new CircuitBreaker(1, 5_000);
    breaker.finish(false, false, 0);
    breaker.finish(true, false, 1);
    expect(breaker.state(1)).toBe('open');
  });
});

describe('circuit breaker in the router', () => {
  it('stops routing to a replica after N failures and half-opens after the cooldown on the injected clock', async () => {
    const clock = manualClock();
    const router = testRouter([clusterConfig({ maxConcurrencyPerReplica: 2 }, ['r1', 'r2'])], {
      clock: clock.now,
      circuitFailuresToOpen: 3,
      circuitCooldownMs: 5_000,
    });
    const onlyR1 = { exclude: new Set(['r2']) };
    for (let i = 0; i < 3; i++) (await router.acquire('m1', 'normal', onlyR1)).release({ ok: false });
    const circuitOf = (id: string) => router.snapshot().replicas.find((replica) => replica.id === id)?.circuit;
    expect(circuitOf('r1')).toBe('open');

    const whileOpen = await Promise.all([router.acquire('m1', 'normal'), router.acquire('m1', 'normal')]);
    expect(whileOpen.map((lease) => lease.replica.id)).toEqual(['r2', 'r2']);
    for (const lease of whileOpen) lease.release({ ok: true });

    clock.advance(5_000);
    expect(circuitOf('r1')).toBe('half-open');
    const trial = await router.acquire('m1', 'normal', onlyR1);
    expect(trial.replica.id).toBe('r1');
    const afterTrial = router.acquire('m1', 'normal', onlyR1);
    expect(router.queueDepth('m1')).toBe(1);
    trial.release({ ok: true });
    expect(circuitOf('r1')).toBe('closed');
    expect((await afterTrial).replica.id).toBe('r1');
    await router.close();
  });

  it('re-opens when the half-open trial fails', async () => {
    const clock = manualClock();
    const router = testRouter([clusterConfig({}, ['r1'])], {
      clock: clock.now,
      circuitFailuresToOpen: 2,
      circuitCooldownMs: 1_000,
    });
    for (let i = 0; i < 2; i++) (await router.acquire('m1', 'normal')).release({ ok: false });
    expect(router.snapshot().replicas[0]?.circuit).toBe('open');
    clock.advance(1_000);
    (await router.acquire('m1', 'normal')).release({ ok: false });
    expect(router.snapshot().replicas[0]?.circuit).toBe('open');
    clock.advance(999);
    expect(router.snapshot().replicas[0]?.circuit).toBe('open');
    clock.advance(1);
    expect(router.snapshot().replicas[0]?.circuit).toBe('half-open');
    await router.close();
  });

  it('wakes a waiter when the cooldown of the only replica ends', async () => {
    const clock = manualClock();
    const router = testRouter([clusterConfig({}, ['r1'])], {
      clock: clock.now,
      circuitFailuresToOpen: 1,
      circuitCooldownMs: 1_000,
    });
    (await router.acquire('m1', 'normal')).release({ ok: false });
    const waiting = router.acquire('m1', 'normal');
    expect(router.queueDepth('m1')).toBe(1);
    clock.advance(1_000);
    // The health-check round is the periodic wake-up when the clock is not real time.
    await router.checkHealth();
    const lease = await waiting;
    expect(lease.replica.id).toBe('r1');
    lease.release({ ok: true });
    expect(router.snapshot().replicas[0]?.circuit).toBe('closed');
    await router.close();
  });
});
