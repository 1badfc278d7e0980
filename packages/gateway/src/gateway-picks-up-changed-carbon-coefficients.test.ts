import { usageRecords } from '@tokenwise/db/schema';
import { describeEachBackend } from '@tokenwise/db/testing';
import { eq } from 'drizzle-orm';
import OpenAI from 'openai';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { findCluster, setClusterCarbon } from '@tokenwise/control';
import { startGatewayWorld, testModel, waitForUsageRows, type GatewayWorld } from './test-kit';

describeEachBackend('a running gateway picks up changed carbon coefficients', (database) => {
  let world: GatewayWorld;
  beforeAll(async () => {
    world = await startGatewayWorld(database());
  });
  afterAll(async () => {
    await world?.close();
  });

  async function co2eOfOneRequest(apiKey: string) {
    const client = new OpenAI({ apiKey, baseURL: `${world.gateway.url}/v1`, maxRetries: 0 });
    const { response } = await client.chat.completions
      .create({ model: testModel, messages: [{ role: 'user', content: 'hi' }], max_tokens: 8 })
      .withResponse();
    const requestId = response.headers.get('x-request-id') as string;
    await waitForUsageRows(database(), { requestId });
    const [row] = await database()
      .db.select({
        total: usageRecords.co2eMicrograms,
        operational: usageRecords.operationalCo2eMicrograms,
        embodied: usageRecords.embodiedCo2eMicrograms,
        market: usageRecords.marketCo2eMicrograms,
      })
      .from(usageRecords)
      .where(eq(usageRecords.requestId, requestId));
    if (row === undefined) throw new Error(`no usage row for ${requestId}`);
    return row;
  }

  it('registers its clusters and their health at start, and prices new requests with coefficients an operator sets, within seconds', async () => {
    expect(await findCluster(database().db, { name: 'test-cluster' })).toMatchObject({
      gridIntensityGCo2ePerKwh: 300,
      carbonSource: 'config',
      health: { 'replica-0': { healthy: true, circuit: 'closed' } },
    });
    const { apiKey } = await world.user({ innovation: 10_000_000n });
    const before = await co2eOfOneRequest(apiKey);
    expect(before.operational).toBeGreaterThan(0n);
    expect(before.market).toBeNull();
    await setClusterCarbon(database().db, {
      name: 'test-cluster',
      carbon: { gridIntensityGCo2ePerKwh: 0, pue: 1.1, marketGridIntensityGCo2ePerKwh: 20 },
      actor: 'user:operator',
    });
    const deadline = Date.now() + 8_000;
    let co2e = await co2eOfOneRequest(apiKey);
    while (co2e.operational !== 0n && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      co2e = await co2eOfOneRequest(apiKey);
    }
    // A clean grid zeroes the operational term; the hardware's embodied share remains, and the
    // market-based figure is reported next to it.
    expect(co2e.operational).toBe(0n);
    expect(co2e.embodied).toBeGreaterThan(0n);
    expect(co2e.total).toBe(co2e.embodied);
    expect(co2e.market).toBeGreaterThan(0n);
  });
});
