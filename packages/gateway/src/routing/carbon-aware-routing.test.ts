import { describe, expect, it } from 'vitest';
import { NoHealthyReplicaError, QueueFullError } from './errors';
import { clusterConfig, testRouter } from './routing-test-kit';
import { type ClusterConfig, type Lease } from './types';

const cleanUrl = 'http://127.0.0.1:9101';
const dirtyUrl = 'http://127.0.0.1:9201';

/** Two clusters serving m1: "clean" (hydro, 20 gCO2e/kWh) and "dirty" (coal-heavy, 700), one replica each. */
function twoClusters(overrides: Partial<ClusterConfig> = {}): ClusterConfig[] {
  return [
    clusterConfig({
      name: 'dirty',
      region: 'pl-central',
      gridIntensityGCo2ePerKwh: 700,
      maxConcurrencyPerReplica: 2,
      replicas: [{ id: 'dirty-0', url: dirtyUrl }],
      ...overrides,
    }),
    clusterConfig({
      name: 'clean',
      region: 'se-north',
      gridIntensityGCo2ePerKwh: 20,
      maxConcurrencyPerReplica: 2,
      replicas: [{ id: 'clean-0', url: cleanUrl }],
      ...overrides,
    }),
  ];
}

/** Health answers per replica URL; the test marks a URL down. */
function healthByUrl(): { fetch: typeof fetch; down: Set<string> } {
  const down = new Set<string>();
  const fake = ((input: string | URL | Request) => {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    const isDown = [...down].some((base) => url.startsWith(base));
    return Promise.resolve(new Response(null, { status: isDown ? 503 : 200 }));
  }) as typeof fetch;
  return { fetch: fake, down };
}

const clusterOf = (lease: Lease) => lease.cluster.name;

describe('carbon-aware routing between two clusters serving one model', () => {
  it('sends low and normal requests to the clean cluster, and urgent ones to the less loaded', async () => {
    const router = testRouter(twoClusters({ maxConcurrencyPerReplica: 4 }));
    const low = await router.acquire('m1', 'low', { preferClean: true });
    expect(clusterOf(low)).toBe('clean');
    // Dirty is idle, clean has room: a normal request still takes clean.
    const normal = await router.acquire('m1', 'normal', { preferClean: true });
    expect(clusterOf(normal)).toBe('clean');
    // Clean still has free slots, but dirty has none busy: urgent and high take the less loaded.
    const urgent = await router.acquire('m1', 'urgent');
    expect(clusterOf(urgent)).toBe('dirty');
    const high = await router.acquire('m1', 'high');
    expect(clusterOf(high)).toBe('dirty');
    for (const lease of [low, urgent, normal, high]) lease.release({ ok: true });
    // Idle and equally loaded: the fastest choice breaks the tie by carbon.
    const tie = await router.acquire('m1', 'urgent');
    expect(clusterOf(tie)).toBe('clean');
    tie.release({ ok: true });
    await router.close();
  });

  it('spills a low request to the dirty cluster while the clean one is full, and waits for clean when both are', async () => {
    const router = testRouter(twoClusters());
    const onClean = [await router.acquire('m1', 'low', { preferClean: true })];
    onClean.push(await router.acquire('m1', 'low', { preferClean: true }));
    expect(onClean.map(clusterOf)).toEqual(['clean', 'clean']);
    const spilled = await router.acquire('m1', 'low', { preferClean: true });
    expect(clusterOf(spilled)).toBe('dirty');
    const dirtyBusy = await router.acquire('m1', 'urgent');
    expect(clusterOf(dirtyBusy)).toBe('dirty');

    const waiting = router.acquire('m1', 'low', { preferClean: true });
    expect(router.queueDepth('m1')).toBe(1);
    expect(router.snapshot().models).toEqual([
      { model: 'm1', cluster: 'dirty', queueDepth: 0 },
      { model: 'm1', cluster: 'clean', queueDepth: 1 },
    ]);
    // A dirty slot frees first: the low request keeps waiting for clean capacity.
    dirtyBusy.release({ ok: true });
    await new Promise((resolve) => setImmediate(resolve));
    expect(router.queueDepth('m1')).toBe(1);
    onClean[0]?.release({ ok: true });
    expect(clusterOf(await waiting)).toBe('clean');
    expect(router.queueDepth('m1')).toBe(0);
    await router.close();
  });

  it('sends an urgent request that finds both clusters full to wait where fewer wait ahead of it', async () => {
    const router = testRouter(twoClusters({ maxConcurrencyPerReplica: 1 }));
    const busy = [await router.acquire('m1', 'normal'), await router.acquire('m1', 'normal')];
    expect(busy.map(clusterOf).sort()).toEqual(['clean', 'dirty']);
    const lowOnClean = router.acquire('m1', 'low', { preferClean: true });
    const urgent = router.acquire('m1', 'urgent');
    // Nothing waits ahead of an urgent request anywhere; the low waiter makes clean the more loaded.
    busy.find((lease) => clusterOf(lease) === 'dirty')?.release({ ok: true });
    expect(clusterOf(await urgent)).toBe('dirty');
    busy.find((lease) => clusterOf(lease) === 'clean')?.release({ ok: true });
    expect(clusterOf(await lowOnClean)).toBe('clean');
    await router.close();
  });

  it('sends low requests to the less loaded cluster when the org turned carbon-aware routing off', async () => {
    const router = testRouter(twoClusters());
    const first = await router.acquire('m1', 'low', { preferClean: false });
    expect(clusterOf(first)).toBe('clean');
    const second = await router.acquire('m1', 'low', { preferClean: false });
    expect(clusterOf(second)).toBe('dirty');
    const clean = await router.acquire('m1', 'low', { preferClean: true });
    expect(clusterOf(clean)).toBe('clean');
    for (const lease of [first, second, clean]) lease.release({ ok: true });
    await router.close();
  });

  it('sends low requests to the dirty cluster while the clean one is unhealthy, and back once it recovers', async () => {
    const health = healthByUrl();
    health.down.add(cleanUrl);
    const router = testRouter(twoClusters({ maxConcurrencyPerReplica: 1 }), { fetch: health.fetch });
    await router.checkHealth();
    const low = await router.acquire('m1', 'low', { preferClean: true });
    expect(clusterOf(low)).toBe('dirty');
    // Dirty is full and clean is down: the next one waits at dirty, where it will be served.
    const waiting = router.acquire('m1', 'low', { preferClean: true });
    low.release({ ok: true });
    const served = await waiting;
    expect(clusterOf(served)).toBe('dirty');
    served.release({ ok: true });
    health.down.clear();
    await router.checkHealth();
    const back = await router.acquire('m1', 'low', { preferClean: true });
    expect(clusterOf(back)).toBe('clean');
    back.release({ ok: true });
    await router.close();
  });

  it('fails over to the other cluster after a replica failed, and refuses once every replica did', async () => {
    const router = testRouter(twoClusters());
    const first = await router.acquire('m1', 'low', { preferClean: true });
    expect(first.replica.id).toBe('clean-0');
    first.release({ ok: false });
    const exclude = new Set(['clean-0']);
    const retry = await router.acquire('m1', 'low', { preferClean: true, exclude });
    expect(retry.replica.id).toBe('dirty-0');
    retry.release({ ok: false });
    exclude.add('dirty-0');
    await expect(router.acquire('m1', 'low', { preferClean: true, exclude })).rejects.toBeInstanceOf(
      NoHealthyReplicaError,
    );
    expect(router.queueDepth('m1')).toBe(0);
    await router.close();
  });

  it('refuses with QueueFullError once both clusters’ queues for the model are full', async () => {
    const router = testRouter(twoClusters({ maxConcurrencyPerReplica: 1, queueDepthMax: 1 }));
    const busy = [await router.acquire('m1', 'normal'), await router.acquire('m1', 'normal')];
    const waiting = [router.acquire('m1', 'low', { preferClean: true }), router.acquire('m1', 'low')];
    await expect(router.acquire('m1', 'low', { preferClean: true })).rejects.toBeInstanceOf(QueueFullError);
    expect(router.snapshot().models.map((model) => model.queueDepth)).toEqual([1, 1]);
    for (const lease of busy) lease.release({ ok: true });
    for (const lease of await Promise.all(waiting)) lease.release({ ok: true });
    await router.close();
  });

  it('routes only to the clusters the request was admitted for, never to a cleaner one added since', async () => {
    const router = testRouter(twoClusters());
    const admittedFor = new Set(router.clustersFor('m1').map((cluster) => cluster.name));
    router.addCluster(
      clusterConfig({
        name: 'cleanest',
        gridIntensityGCo2ePerKwh: 5,
        replicas: [{ id: 'cleanest-0', url: 'http://127.0.0.1:9301' }],
      }),
    );
    const low = await router.acquire('m1', 'low', { preferClean: true, within: admittedFor });
    expect(clusterOf(low)).toBe('clean');
    const onlyDirty = await router.acquire('m1', 'low', { preferClean: true, within: new Set(['dirty']) });
    expect(clusterOf(onlyDirty)).toBe('dirty');
    const unbound = await router.acquire('m1', 'low', { preferClean: true });
    expect(clusterOf(unbound)).toBe('cleanest');
    await expect(router.acquire('m1', 'low', { within: new Set(['gone']) })).rejects.toBeInstanceOf(
      NoHealthyReplicaError,
    );
    for (const lease of [low, onlyDirty, unbound]) lease.release({ ok: true });
    await router.close();
  });

  it('lists every enabled cluster serving the model, names the dirtiest as the one to size bounds by, and routes only to those', async () => {
    const router = testRouter(twoClusters());
    expect(router.clustersFor('m1').map((cluster) => cluster.name)).toEqual(['dirty', 'clean']);
    expect(router.clusterFor('m1')?.name).toBe('dirty');
    expect(router.models()).toEqual(['m1']);
    router.setAvailability('clean', { disabled: true, disabledReplicas: [] });
    expect(router.clustersFor('m1').map((cluster) => cluster.name)).toEqual(['dirty']);
    const low = await router.acquire('m1', 'low', { preferClean: true });
    expect(clusterOf(low)).toBe('dirty');
    router.setAvailability('dirty', { disabled: true, disabledReplicas: [] });
    expect(router.clustersFor('m1')).toEqual([]);
    expect(router.clusterFor('m1')).toBeUndefined();
    expect(router.models()).toEqual([]);
    low.release({ ok: true });
    router.setAvailability('clean', { disabled: false, disabledReplicas: [] });
    expect(router.setCarbon('clean', { region: 'se-north', gridIntensityGCo2ePerKwh: 900, pue: null })).toBe(true);
    expect(router.clusterFor('m1')?.name).toBe('clean');
    expect(router.removeCluster('clean')).toBe(true);
    router.setAvailability('dirty', { disabled: false, disabledReplicas: [] });
    expect(router.clustersFor('m1').map((cluster) => cluster.name)).toEqual(['dirty']);
    expect(router.models()).toEqual(['m1']);
    await expect(router.acquire('m2', 'low')).rejects.toMatchObject({ code: 'UNKNOWN_MODEL' });
    await router.close();
  });
});
