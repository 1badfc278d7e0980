import { parsePriceList, quoteCost, requestEmissions, type PriceListInput } from '@tokenwise/core';
import { openTestDatabase } from '@tokenwise/db/testing';
import { usageRecords } from '@tokenwise/db/schema';
import type { Database } from '@tokenwise/db';
import { eq } from 'drizzle-orm';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGatewayWorld, testModel, testPriceList, waitForUsageRows, type GatewayWorld } from './test-kit';

/** An internal carbon price in the model's currency: 1 minor unit per gram (10^6 per kg). */
const pricedCarbon: PriceListInput = {
  ...testPriceList(),
  carbonPrice: { currency: 'innovation', perKgCo2e: '1000000' },
};
/** Mixtral-like, and decoding so fast the generation latency is the modelled one (tokens / speed), never the measured. */
const mixtral = { totalParamsBillions: 46.7, activeParamsBillions: 12.9, tokensPerSecond: 1_000_000 };

async function oneRequest(world: GatewayWorld, database: Database) {
  const { apiKey } = await world.user({ innovation: 10_000_000n });
  const client = new OpenAI({ apiKey, baseURL: `${world.gateway.url}/v1`, maxRetries: 0 });
  const { response } = await client.chat.completions
    .create({ model: testModel, messages: [{ role: 'user', content: 'hi' }], max_tokens: 16 })
    .withResponse();
  const requestId = response.headers.get('x-request-id') as string;
  await waitForUsageRows(database, { requestId });
  const [row] = await database.db.select().from(usageRecords).where(eq(usageRecords.requestId, requestId));
  if (row === undefined) throw new Error(`no usage row for ${requestId}`);
  return { row, costHeader: response.headers.get('x-tokenwise-cost-innovation') };
}

describe('a model with a profile on its cluster', () => {
  let database: Database;
  let world: GatewayWorld;
  beforeAll(async () => {
    database = await openTestDatabase('pglite');
    world = await startGatewayWorld(database, {
      priceList: pricedCarbon,
      cluster: {
        gridIntensityGCo2ePerKwh: 300,
        marketGridIntensityGCo2ePerKwh: 45,
        pue: 1.1,
        modelProfiles: { [testModel]: mixtral },
      },
      // The cluster's profile wins over the gateway setting.
      settings: { modelProfiles: { [testModel]: { totalParamsBillions: 8, activeParamsBillions: 8 } } },
    });
  });
  afterAll(async () => {
    await world?.close();
    await database?.close();
  });

  it('stores operational, embodied and market-based emissions apart, with the methodology, and prices the total', async () => {
    const { row, costHeader } = await oneRequest(world, database);
    const expected = requestEmissions(
      mixtral,
      { region: 'eu-west', gridIntensityGCo2ePerKwh: 300, marketGridIntensityGCo2ePerKwh: 45, overrides: { pue: 1.1 } },
      { outputTokens: row.completionTokens },
    );
    expect(row).toMatchObject({
      operationalCo2eMicrograms: expected.operationalCo2eMicrograms,
      embodiedCo2eMicrograms: expected.embodiedCo2eMicrograms,
      co2eMicrograms: expected.operationalCo2eMicrograms + expected.embodiedCo2eMicrograms,
      marketCo2eMicrograms: expected.marketCo2eMicrograms,
      carbonMethodology: 'ecologits-0.11.3',
      carbonAssumed: false,
    });
    expect(row.embodiedCo2eMicrograms).toBeGreaterThan(0n);
    expect(row.marketCo2eMicrograms).toBeLessThan(row.operationalCo2eMicrograms);
    // The internal carbon price charges operational + embodied, and the cost says so.
    const quote = quoteCost(parsePriceList(pricedCarbon), {
      modelId: testModel,
      tier: 'normal',
      inputTokens: row.promptTokens,
      outputTokens: row.completionTokens,
      co2eMicrograms: row.co2eMicrograms,
    });
    // micrograms x 10^6 minor units per kg / 10^9 micrograms per kg: a thousandth of a minor unit per microgram.
    expect(Number(quote.breakdown.carbon?.exactMinorUnits) * 1000).toBeCloseTo(Number(row.co2eMicrograms), 6);
    expect(row.cost).toBe(quote.totals.innovation);
    expect(costHeader).toBe(String(quote.totals.innovation));
  });
});

describe('a model without a profile (a bare VLLM_URL)', () => {
  let database: Database;
  let world: GatewayWorld;
  beforeAll(async () => {
    database = await openTestDatabase('pglite');
    world = await startGatewayWorld(database);
  });
  afterAll(async () => {
    await world?.close();
    await database?.close();
  });

  it('is metered as dense at the price list weight and flagged carbon_assumed', async () => {
    const { row } = await oneRequest(world, database);
    expect(row).toMatchObject({ carbonAssumed: true, carbonMethodology: 'ecologits-0.11.3' });
    expect(row.marketCo2eMicrograms).toBeNull();
    expect(row.co2eMicrograms).toBe(row.operationalCo2eMicrograms + row.embodiedCo2eMicrograms);
    expect(row.embodiedCo2eMicrograms).toBeGreaterThan(0n);
  });
});
