import { usageRecords } from '@tokenwise/db/schema';
import { describeEachBackend } from '@tokenwise/db/testing';
import { eq } from 'drizzle-orm';
import OpenAI from 'openai';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { setClusterDisabled, setReplicaDisabled } from '@tokenwise/control';
import { startGatewayWorld, testModel, waitForUsageRows, type GatewayWorld } from './test-kit';

/** Longer than the gateway's cluster sync interval (2 s), with room for a slow CI machine. */
const pickUpMsMax = 8_000;

describeEachBackend('a running gateway picks up disabled clusters and replicas', (database) => {
  let world: GatewayWorld;
  let client: OpenAI;
  beforeAll(async () => {
    world = await startGatewayWorld(database(), { replicas: 2 });
    client = new OpenAI({
      apiKey: (await world.user({ innovation: 100_000_000n })).apiKey,
      baseURL: `${world.gateway.url}/v1`,
      maxRetries: 0,
    });
  });
  afterAll(async () => {
    await world?.close();
  });

  /** The status of one request, and the replica that served it. */
  async function send(): Promise<{ status: number; replica?: string }> {
    try {
      const { response } = await client.chat.completions
        .create({ model: testModel, messages: [{ role: 'user', content: 'hi' }], max_tokens: 4 })
        .withResponse();
      const requestId = response.headers.get('x-request-id') as string;
      await waitForUsageRows(database(), { requestId });
      const [row] = await database()
        .db.select({ replica: usageRecords.replica })
        .from(usageRecords)
        .where(eq(usageRecords.requestId, requestId));
      return { status: 200, replica: row?.replica };
    } catch (error) {
      if (error instanceof OpenAI.APIError && error.status !== undefined) return { status: error.status };
      throw error;
    }
  }

  async function until(
    done: (result: { status: number; replica?: string }) => boolean,
  ): Promise<{ status: number; replica?: string }> {
    const deadline = Date.now() + pickUpMsMax;
    let result = await send();
    while (!done(result) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      result = await send();
    }
    return result;
  }

  it('refuses a disabled cluster’s model with 404 within seconds, and serves it again once enabled', async () => {
    expect((await send()).status).toBe(200);
    await setClusterDisabled(database().db, { name: 'test-cluster', disabled: true, actor: 'user:operator' });
    expect((await until((result) => result.status === 404)).status).toBe(404);
    expect((await client.models.list()).data.map((model) => model.id)).toEqual([]);
    await setClusterDisabled(database().db, { name: 'test-cluster', disabled: false, actor: 'user:operator' });
    expect((await until((result) => result.status === 200)).status).toBe(200);
  });

  it('sends nothing to a disabled replica once the change is picked up', async () => {
    await setReplicaDisabled(database().db, {
      name: 'test-cluster',
      replicaId: 'replica-0',
      disabled: true,
      actor: 'user:operator',
    });
    // Sequential requests alternate between idle replicas, so three in a row on replica-1 mean the change was picked up.
    let streak = 0;
    await until((result) => (streak = result.replica === 'replica-1' ? streak + 1 : 0) >= 3);
    expect(streak).toBeGreaterThanOrEqual(3);
    const replicas = new Set<string | undefined>();
    for (let index = 0; index < 6; index++) replicas.add((await send()).replica);
    expect([...replicas]).toEqual(['replica-1']);
    await setReplicaDisabled(database().db, {
      name: 'test-cluster',
      replicaId: 'replica-0',
      disabled: false,
      actor: 'user:operator',
    });
  });
});
