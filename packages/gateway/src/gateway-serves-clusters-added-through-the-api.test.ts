import type { PriceListInput } from '@tokenwise/core';
import { describeEachBackend } from '@tokenwise/db/testing';
import { startVllmSim, type VllmSim } from '@tokenwise/vllm-sim';
import OpenAI from 'openai';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { usageRecords } from '@tokenwise/db/schema';
import { eq } from 'drizzle-orm';
import {
  addCluster,
  addReplica,
  removeCluster,
  removeReplica,
  setClusterDisabled,
  setReplicaDisabled,
} from '@tokenwise/control';
import { startGatewayWorld, testModel, testPriceList, waitForUsageRows, type GatewayWorld } from './test-kit';

const extraModel = 'sim-extra-1b';
/** Longer than the gateway's cluster sync interval (2 s), with room for a slow CI machine. */
const pickUpMsMax = 8_000;

function bothModelsPriced(): PriceListInput {
  return { ...testPriceList(), models: { ...testPriceList().models, ...testPriceList(extraModel).models } };
}

describeEachBackend('a running gateway serves clusters added through the API and drops removed ones', (database) => {
  let world: GatewayWorld;
  let extraSim: VllmSim;
  let client: OpenAI;
  beforeAll(async () => {
    world = await startGatewayWorld(database(), { priceList: bothModelsPriced() });
    extraSim = await startVllmSim({
      model: extraModel,
      seed: 7,
      latency: { ttftMs: 5, tpotMs: 1 },
      outputTokens: { min: 4, max: 8 },
    });
    client = new OpenAI({
      apiKey: (await world.user({ innovation: 100_000_000n })).apiKey,
      baseURL: `${world.gateway.url}/v1`,
      maxRetries: 0,
    });
  });
  afterAll(async () => {
    await world?.close();
    await extraSim?.close();
  });

  async function statusOf(model: string): Promise<number> {
    try {
      await client.chat.completions.create({ model, messages: [{ role: 'user', content: 'hi' }], max_tokens: 4 });
      return 200;
    } catch (error) {
      if (error instanceof OpenAI.APIError && error.status !== undefined) return error.status;
      throw error;
    }
  }

  /** The replica that served one request. */
  async function replicaOf(model: string): Promise<string | undefined> {
    const { response } = await client.chat.completions
      .create({ model, messages: [{ role: 'user', content: 'hi' }], max_tokens: 4 })
      .withResponse();
    const requestId = response.headers.get('x-request-id') as string;
    await waitForUsageRows(database(), { requestId });
    const [row] = await database()
      .db.select({ replica: usageRecords.replica })
      .from(usageRecords)
      .where(eq(usageRecords.requestId, requestId));
    return row?.replica;
  }

  async function until(model: string, status: number): Promise<number> {
    const deadline = Date.now() + pickUpMsMax;
    let seen = await statusOf(model);
    while (seen !== status && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      seen = await statusOf(model);
    }
    return seen;
  }

  it('serves the added cluster’s model within seconds, and refuses it once the cluster is disabled and removed', async () => {
    expect(await statusOf(extraModel)).toBe(404);
    await addCluster(database().db, {
      cluster: {
        name: 'extra',
        models: [extraModel],
        replicas: [{ id: 'extra-0', url: extraSim.url }],
        maxConcurrencyPerReplica: 8,
        priorityScheduling: false,
        queueDepthMax: 100,
        queueWaitMsMax: 10_000,
        region: 'eu-north',
        gridIntensityGCo2ePerKwh: 40,
      },
      actor: 'user:operator',
    });
    expect(await until(extraModel, 200)).toBe(200);
    expect((await client.models.list()).data.map((model) => model.id).sort()).toEqual([extraModel, testModel].sort());
    await setClusterDisabled(database().db, { name: 'extra', disabled: true, actor: 'user:operator' });
    await removeCluster(database().db, { name: 'extra', actor: 'user:operator' });
    expect(await until(extraModel, 404)).toBe(404);
    expect(await statusOf(testModel)).toBe(200);
  });

  it('sends requests to a replica added to such a cluster, and none to one removed from it', async () => {
    const second = await startVllmSim({
      model: extraModel,
      seed: 8,
      latency: { ttftMs: 5, tpotMs: 1 },
      outputTokens: { min: 4, max: 8 },
    });
    try {
      const db = database().db;
      await addCluster(db, {
        cluster: {
          name: 'extra-2',
          models: [extraModel],
          replicas: [{ id: 'extra-2-0', url: extraSim.url }],
          maxConcurrencyPerReplica: 8,
          priorityScheduling: false,
          queueDepthMax: 100,
          queueWaitMsMax: 10_000,
          region: 'eu-north',
          gridIntensityGCo2ePerKwh: 40,
        },
        actor: 'user:operator',
      });
      expect(await until(extraModel, 200)).toBe(200);
      await addReplica(db, { name: 'extra-2', replica: { id: 'extra-2-1', url: second.url }, actor: 'user:operator' });
      await setReplicaDisabled(db, { name: 'extra-2', replicaId: 'extra-2-0', disabled: true, actor: 'user:operator' });
      await removeReplica(db, { name: 'extra-2', replicaId: 'extra-2-0', actor: 'user:operator' });
      const deadline = Date.now() + pickUpMsMax;
      // Idle replicas alternate, so three in a row on extra-2-1 mean the removal was picked up.
      let streak = 0;
      while (streak < 3 && Date.now() < deadline)
        streak = (await replicaOf(extraModel)) === 'extra-2-1' ? streak + 1 : 0;
      const after = new Set<string | undefined>();
      for (let index = 0; index < 4; index++) after.add(await replicaOf(extraModel));
      expect([...after]).toEqual(['extra-2-1']);
    } finally {
      await second.close();
    }
  });
});
