import { parsePriceList, quoteCost, type PriceListInput } from '@tokenwise/core';
import { createOrg, createUser } from '@tokenwise/db';
import { gatewayRequests, usageRecords } from '@tokenwise/db/schema';
import {} from '@tokenwise/ledger';
import { describeEachBackend } from '@tokenwise/db/testing';
import { eq } from 'drizzle-orm';
import { randomUUID } from 'node:crypto';
import OpenAI from 'openai';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createApiKey, loadNewestPriceList, publishPriceList } from '@tokenwise/control';
import { startGatewayWorld, testModel, testPriceList, waitForUsageRows, type GatewayWorld } from './test-kit';

/** Org A's own list: ten times the default's per-token prices, so a mix-up cannot pass unnoticed. */
function orgAPriceList(): PriceListInput {
  const base = testPriceList();
  const model = base.models[testModel];
  if (model === undefined) throw new Error('test price list lacks the test model');
  return {
    ...base,
    version: 'org-a-1',
    models: { [testModel]: { ...model, cInputPerMTok: '10000000', cOutputPerMTok: '20000000' } },
  };
}

describeEachBackend('each org pays by its own price list, else the platform default', (database) => {
  let world: GatewayWorld;
  let orgA: { id: string; apiKey: string; userId: string; wallet: string };
  let orgAVersion: number;
  beforeAll(async () => {
    world = await startGatewayWorld(database());
    const db = database().db;
    const org = await createOrg(db, {
      actor: 'test',
      input: { slug: `org-a-${randomUUID().slice(0, 8)}`, name: 'Org A' },
    });
    orgAVersion = (await publishPriceList(db, { body: orgAPriceList(), actor: 'user:test', orgId: org.id })).version;
    const user = await createUser(db, {
      actor: 'test',
      input: { orgId: org.id, email: 'a@org-a.test', displayName: 'A' },
    });
    const wallet = await world.ledger.ensureAccount({
      ownerType: 'user',
      ownerId: user.id,
      orgId: org.id,
      currency: 'innovation',
      purpose: 'wallet',
    });
    const issuance = await world.ledger.ensureAccount({
      ownerType: 'system',
      ownerId: 'issuance',
      currency: 'innovation',
      purpose: 'issuance',
    });
    await world.ledger.submit([
      {
        type: 'transfer',
        id: `fund-${wallet.id}`,
        debitAccountId: issuance.id,
        creditAccountId: wallet.id,
        amount: 10_000_000n,
        code: 'grant',
      },
    ]);
    const { secret } = await createApiKey(db, {
      pepper: world.keyPepper,
      orgId: org.id,
      userId: user.id,
      name: 'org a key',
      allowedModels: null,
      actor: 'test',
    });
    orgA = { id: org.id, apiKey: secret, userId: user.id, wallet: wallet.id };
  });
  afterAll(async () => {
    await world?.close();
  });
  const client = (apiKey: string) => new OpenAI({ apiKey, baseURL: `${world.gateway.url}/v1`, maxRetries: 0 });

  async function send(apiKey: string) {
    const { data, response } = await client(apiKey)
      .chat.completions.create({ model: testModel, messages: [{ role: 'user', content: 'Price me' }], max_tokens: 16 })
      .withResponse();
    const requestId = response.headers.get('x-request-id') as string;
    await waitForUsageRows(database(), { requestId });
    const [usage] = await database().db.select().from(usageRecords).where(eq(usageRecords.requestId, requestId));
    const [admission] = await database()
      .db.select()
      .from(gatewayRequests)
      .where(eq(gatewayRequests.requestId, requestId));
    return { data, response, usage, admission };
  }

  it("prices org A's request from org A's list and records that version on admission and usage", async () => {
    const { data, response, usage, admission } = await send(orgA.apiKey);
    const list = parsePriceList(orgAPriceList());
    const expected = quoteCost(list, {
      modelId: testModel,
      tier: 'normal',
      inputTokens: data.usage?.prompt_tokens ?? -1,
      outputTokens: data.usage?.completion_tokens ?? -1,
    }).totals.innovation;
    expect(response.headers.get('x-tokenwise-cost-innovation')).toBe(String(expected));
    expect(usage).toMatchObject({ orgId: orgA.id, cost: expected, priceListVersion: orgAVersion });
    expect(admission?.priceListVersion).toBe(orgAVersion);
    expect((await world.ledger.balance(orgA.wallet)).posted).toBe(10_000_000n - (expected ?? 0n));
  });

  it("prices org B's request (no list of its own) from the newest platform default", async () => {
    const defaultList = await loadNewestPriceList(database().db);
    expect(defaultList?.orgId).toBeNull();
    const { apiKey } = await world.user({ innovation: 1_000_000n });
    const { data, usage } = await send(apiKey);
    const expected = quoteCost(parsePriceList(testPriceList()), {
      modelId: testModel,
      tier: 'normal',
      inputTokens: data.usage?.prompt_tokens ?? -1,
      outputTokens: data.usage?.completion_tokens ?? -1,
    }).totals.innovation;
    expect(usage).toMatchObject({ orgId: world.orgId, cost: expected, priceListVersion: defaultList?.version });
    expect(usage?.priceListVersion).not.toBe(orgAVersion);
  });
});
