import { setCarbonAwareRouting, type Database } from '@tokenwise/db';
import { usageRecords } from '@tokenwise/db/schema';
import { openTestDatabase } from '@tokenwise/db/testing';
import { startVllmSim, type VllmSim } from '@tokenwise/vllm-sim';
import { eq } from 'drizzle-orm';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGatewayWorld, testModel, waitForUsageRows, type GatewayWorld } from './test-kit';

/** Each request runs about 1 s on either simulator, long enough to see where the others land meanwhile. */
const simOptions = { latency: { ttftMs: 5, tpotMs: 80 }, outputTokens: { min: 12, max: 12 } };
/** The gateway's key cache TTL (1 s) and some room: the org's setting reaches the principal within it. */
const principalRefreshMs = 1_200;

describe('carbon-aware routing between two simulated clusters serving one model', () => {
  let database: Database;
  let world: GatewayWorld;
  let cleanSim: VllmSim;
  let client: OpenAI;
  beforeAll(async () => {
    database = await openTestDatabase('pglite');
    cleanSim = await startVllmSim({ model: testModel, seed: 11, ...simOptions });
    world = await startGatewayWorld(database, {
      sim: simOptions,
      cluster: { name: 'dirty', region: 'pl-central', gridIntensityGCo2ePerKwh: 700, maxConcurrencyPerReplica: 4 },
      extraClusters: [
        {
          name: 'clean',
          models: [testModel],
          replicas: [{ id: 'clean-0', url: cleanSim.url }],
          maxConcurrencyPerReplica: 4,
          priorityScheduling: false,
          queueDepthMax: 100,
          queueWaitMsMax: 30_000,
          region: 'se-north',
          gridIntensityGCo2ePerKwh: 20,
        },
      ],
    });
    const { apiKey } = await world.user({ innovation: 100_000_000n, priority: 100_000n });
    client = new OpenAI({ apiKey, baseURL: `${world.gateway.url}/v1`, maxRetries: 0 });
  });
  afterAll(async () => {
    await world?.close();
    await cleanSim?.close();
    await database?.close();
  });

  /** Sends one request at `tier` and resolves with its usage row's cluster and emissions. */
  async function usageOf(tier: string): Promise<{ cluster: string; co2eMicrograms: bigint } | undefined> {
    const { response } = await client.chat.completions
      .create(
        { model: testModel, messages: [{ role: 'user', content: tier }], max_tokens: 12 },
        { headers: { 'x-tokenwise-priority': tier } },
      )
      .withResponse();
    const requestId = response.headers.get('x-request-id') as string;
    await waitForUsageRows(database, { requestId });
    const [row] = await database.db
      .select({ cluster: usageRecords.cluster, co2eMicrograms: usageRecords.co2eMicrograms })
      .from(usageRecords)
      .where(eq(usageRecords.requestId, requestId));
    return row;
  }

  const clusterOf = async (tier: string) => (await usageOf(tier))?.cluster;

  async function untilCleanRuns(requests: number): Promise<void> {
    const deadline = Date.now() + 5_000;
    while (cleanSim.metrics().running < requests && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 5));
    expect(cleanSim.metrics().running).toBe(requests);
  }

  it('runs low and normal requests on the clean cluster, and an urgent one on the less loaded dirty cluster', async () => {
    const lows = [clusterOf('low'), clusterOf('low'), clusterOf('normal')];
    await untilCleanRuns(3);
    // Clean still has a free slot, but dirty is idle: urgent and high work takes the faster one.
    expect(await Promise.all([clusterOf('urgent'), clusterOf('high')])).toEqual(['dirty', 'dirty']);
    expect(await Promise.all(lows)).toEqual(['clean', 'clean', 'clean']);
  });

  it('meters each request at the grid intensity of the cluster that served it', async () => {
    const low = await usageOf('low');
    const busy = [usageOf('low'), usageOf('low')];
    await untilCleanRuns(2);
    const urgent = await usageOf('urgent');
    await Promise.all(busy);
    expect([low?.cluster, urgent?.cluster]).toEqual(['clean', 'dirty']);
    // The same 12 completion tokens on either: at 20 against 700 gCO2e/kWh, clean emits less.
    expect(low?.co2eMicrograms).toBeLessThan(urgent?.co2eMicrograms ?? 0n);
  });

  it('spreads low requests by load once the org turns carbon-aware routing off', async () => {
    await setCarbonAwareRouting(database.db, { orgId: world.orgId, enabled: false, actor: 'test' });
    await new Promise((resolve) => setTimeout(resolve, principalRefreshMs));
    const lows = await Promise.all([clusterOf('low'), clusterOf('low'), clusterOf('low'), clusterOf('low')]);
    expect(lows.sort()).toEqual(['clean', 'clean', 'dirty', 'dirty']);
    await setCarbonAwareRouting(database.db, { orgId: world.orgId, enabled: true, actor: 'test' });
    await new Promise((resolve) => setTimeout(resolve, principalRefreshMs));
    const back = await Promise.all([clusterOf('low'), clusterOf('low'), clusterOf('low'), clusterOf('low')]);
    expect(back).toEqual(['clean', 'clean', 'clean', 'clean']);
  });
});
