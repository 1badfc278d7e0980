import { carbonSurchargeTerm, parsePriceList, quoteCost } from '@tokenwise/core';
import { publishPriceList } from '@tokenwise/control';
import { usageRecords } from '@tokenwise/db/schema';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openApiFixture, type ApiFixture } from '../test-fixtures';

let f: ApiFixture;
beforeAll(async () => {
  f = await openApiFixture();
});
afterAll(async () => {
  await f?.close();
});

const withCarbonPrice = {
  version: 'carbon-priced-1',
  models: {
    'llama-8b': {
      currency: 'innovation',
      cInputPerMTok: '1000000',
      cOutputPerMTok: '2000000',
      weightBillions: '8',
      cModelPerBParam: '10',
      tiers: {
        low: { fee: '0', currency: 'innovation' },
        normal: { fee: '0', currency: 'innovation' },
        high: { fee: '100', currency: 'innovation' },
        urgent: { fee: '1000', currency: 'priority' },
      },
    },
  },
  // 1000 minor units per kg CO2e: a thousandth of a minor unit per gram.
  carbonPrice: { currency: 'innovation', perKgCo2e: '1000' },
};

async function insertCarbonUsage(requestId: string, priceListVersion: number): Promise<void> {
  const user = f.users.employee;
  await f.db.insert(usageRecords).values({
    requestId,
    orgId: user.orgId,
    userId: user.id,
    teamId: user.teamId,
    keyId: 'aaaaaaaaaaaa',
    model: 'llama-8b',
    cluster: 'local',
    replica: 'r0',
    tier: 'normal',
    promptTokens: 100,
    completionTokens: 900,
    currency: 'innovation',
    cost: 1_000n,
    priceListVersion,
    latencyMs: 50,
    co2eMicrograms: 2_500_001n,
    operationalCo2eMicrograms: 2_000_000n,
    embodiedCo2eMicrograms: 500_001n,
    carbonMethodology: 'ecologits-0.11.3',
    energyMicroWh: 10_000n,
    system: false,
    outcome: 'completed',
  });
}

describe('the carbon term of a request’s cost', () => {
  it('shows the surcharge on operational + embodied at the price list’s internal carbon price, and none without one', async () => {
    const priced = await publishPriceList(f.db, { body: withCarbonPrice, actor: 'test', orgId: f.org.id });
    const { carbonPrice: _price, ...withoutCarbonPrice } = withCarbonPrice;
    const plain = await publishPriceList(f.db, {
      body: { ...withoutCarbonPrice, version: 'plain-1' },
      actor: 'test',
      orgId: f.org.id,
    });
    await insertCarbonUsage('req-carbon-priced', priced.version);
    await insertCarbonUsage('req-carbon-unpriced', plain.version);
    const employee = await f.as(f.users.employee);
    const shown = await employee.usage.byId({ requestId: 'req-carbon-priced' });
    // 2,500,001 micrograms x 1000 / 10^9 = 2.500001 minor units, exact.
    expect(shown.carbonSurcharge).toEqual({ currency: 'innovation', exactMinorUnits: '2.500001', perKgCo2e: 1000n });
    expect(shown).toMatchObject({
      operationalCo2eGrams: '2.000000',
      embodiedCo2eGrams: '0.500001',
      co2eGrams: '2.500001',
      carbonMethodology: 'ecologits-0.11.3',
    });
    // The same term the cost formula charges.
    const list = parsePriceList(withCarbonPrice);
    const quote = quoteCost(list, {
      modelId: 'llama-8b',
      tier: 'normal',
      inputTokens: 100,
      outputTokens: 900,
      co2eMicrograms: 2_500_001n,
    });
    expect(quote.breakdown.carbon).toEqual({ currency: 'innovation', exactMinorUnits: '2.500001' });
    expect(list.carbonPrice && carbonSurchargeTerm(list.carbonPrice, 2_500_001n)).toEqual(quote.breakdown.carbon);
    const page = await employee.usage.list({ limit: 10 });
    expect(page.items.find((item) => item.requestId === 'req-carbon-unpriced')?.carbonSurcharge).toBeNull();
    expect(page.items.find((item) => item.requestId === 'req-carbon-priced')?.carbonSurcharge?.exactMinorUnits).toBe(
      '2.500001',
    );
  });
});
