import { parsePriceList, quoteCost } from '@tokenwise/core';
import { describeEachBackend } from '@tokenwise/db/testing';
import { outbox, requestPayloads, usageRecords } from '@tokenwise/db/schema';
import { eq } from 'drizzle-orm';
import OpenAI from 'openai';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { checkInvariants } from '@tokenwise/ledger';
import { startGatewayWorld, testModel, testPriceList, waitForUsageRows, type GatewayWorld } from './test-kit';

const priceList = parsePriceList(testPriceList());
const expectedCost = (promptTokens: number, completionTokens: number, tier: 'normal' | 'high' = 'normal') =>
  quoteCost(priceList, { modelId: testModel, tier, inputTokens: promptTokens, outputTokens: completionTokens }).totals
    .innovation ?? 0n;

describeEachBackend('gateway with the openai client', (database) => {
  let world: GatewayWorld;
  beforeAll(async () => {
    world = await startGatewayWorld(database());
  });
  afterAll(async () => {
    await world?.close();
  });
  const client = (apiKey: string) => new OpenAI({ apiKey, baseURL: `${world.gateway.url}/v1`, maxRetries: 0 });

  it('meters a chat completion to the unit: charge, usage row, outbox row, stored payload', async () => {
    const { apiKey, wallets } = await world.user({ innovation: 1_000_000n });
    const { data, response } = await client(apiKey)
      .chat.completions.create({ model: testModel, messages: [{ role: 'user', content: 'Say hello' }], max_tokens: 20 })
      .withResponse();
    const usage = data.usage;
    if (usage === undefined) throw new Error('no usage');
    const cost = expectedCost(usage.prompt_tokens, usage.completion_tokens);
    const requestId = response.headers.get('x-request-id') as string;
    expect(response.headers.get('x-tokenwise-cost-innovation')).toBe(cost.toString());
    await waitForUsageRows(database(), { requestId });
    expect(await world.ledger.balance(wallets.innovation as string)).toMatchObject({
      posted: 1_000_000n - cost,
      debitsPending: 0n,
    });
    expect(response.headers.get('x-tokenwise-balance-innovation')).toBe((1_000_000n - cost).toString());
    const [row] = await database().db.select().from(usageRecords).where(eq(usageRecords.requestId, requestId));
    expect(row).toMatchObject({
      promptTokens: usage.prompt_tokens,
      completionTokens: usage.completion_tokens,
      cost,
      currency: 'innovation',
      model: testModel,
      outcome: 'completed',
      system: false,
    });
    expect(row?.co2eMicrograms).toBeGreaterThan(0n);
    expect(await database().db.select().from(outbox).where(eq(outbox.requestId, requestId))).toHaveLength(1);
    const [payload] = await database()
      .db.select()
      .from(requestPayloads)
      .where(eq(requestPayloads.requestId, requestId));
    expect(payload?.completion).toBe(data.choices[0]?.message.content);
  });

  it('meters a stream with include_usage, and hides usage the client did not ask for', async () => {
    const { apiKey, wallets, userId } = await world.user({ innovation: 1_000_000n });
    const withUsage = await client(apiKey).chat.completions.create({
      model: testModel,
      messages: [{ role: 'user', content: 'Stream please' }],
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = '';
    let usage: OpenAI.CompletionUsage | undefined;
    let chunksWithUsage = 0;
    for await (const chunk of withUsage) {
      text += chunk.choices[0]?.delta?.content ?? '';
      if (chunk.usage) {
        chunksWithUsage++;
        usage = chunk.usage;
      }
    }
    expect(text.length).toBeGreaterThan(0);
    expect(chunksWithUsage).toBe(1);
    const cost = expectedCost(usage?.prompt_tokens ?? -1, usage?.completion_tokens ?? -1);
    await waitForUsageRows(database(), { userId });
    expect((await world.ledger.balance(wallets.innovation as string)).posted).toBe(1_000_000n - cost);

    const without = await client(apiKey).chat.completions.create({
      model: testModel,
      messages: [{ role: 'user', content: 'Stream please' }],
      stream: true,
    });
    for await (const chunk of without) expect(chunk.usage ?? undefined).toBeUndefined();
    await waitForUsageRows(database(), { userId }, 2);
    expect((await world.ledger.balance(wallets.innovation as string)).posted).toBeLessThan(1_000_000n - cost);
  });

  it('meters legacy completions with n > 1', async () => {
    const { apiKey, wallets, userId } = await world.user({ innovation: 1_000_000n });
    const completion = await client(apiKey).completions.create({
      model: testModel,
      prompt: 'Once upon a time',
      max_tokens: 10,
      n: 3,
    });
    expect(completion.choices).toHaveLength(3);
    const cost = expectedCost(completion.usage?.prompt_tokens ?? -1, completion.usage?.completion_tokens ?? -1);
    await waitForUsageRows(database(), { userId });
    expect((await world.ledger.balance(wallets.innovation as string)).posted).toBe(1_000_000n - cost);
  });

  it('answers json_schema requests with conforming JSON', async () => {
    const { apiKey } = await world.user({ innovation: 1_000_000n });
    const result = await client(apiKey).chat.completions.create({
      model: testModel,
      messages: [{ role: 'user', content: 'Give me a verdict' }],
      response_format: {
        type: 'json_schema',
        json_schema: {
          name: 'verdict',
          schema: {
            type: 'object',
            properties: { score: { type: 'integer', minimum: 0, maximum: 10 } },
            required: ['score'],
          },
        },
      },
    });
    const parsed = JSON.parse(result.choices[0]?.message.content ?? 'null') as { score: number };
    expect(parsed.score).toBeGreaterThanOrEqual(0);
    expect(parsed.score).toBeLessThanOrEqual(10);
  });

  it('refuses with 402 and OpenAI error JSON when the wallet cannot cover the estimate, charging nothing', async () => {
    const { apiKey, wallets } = await world.user({ innovation: 50n });
    const error = await client(apiKey)
      .chat.completions.create({ model: testModel, messages: [{ role: 'user', content: 'hello' }], max_tokens: 100 })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(OpenAI.APIError);
    expect((error as InstanceType<typeof OpenAI.APIError>).status).toBe(402);
    expect((error as InstanceType<typeof OpenAI.APIError>).message).toMatch(
      /Insufficient innovation tokens: this request may cost up to .* and you have 0\.00005 available/,
    );
    expect(await world.ledger.balance(wallets.innovation as string)).toMatchObject({ posted: 50n, debitsPending: 0n });
  });

  it('lists only the models a key may use, and answers 404 for others', async () => {
    const { apiKey } = await world.user({ innovation: 1_000n }, { allowedModels: ['another-model'] });
    expect((await client(apiKey).models.list()).data).toEqual([]);
    const error = await client(apiKey)
      .chat.completions.create({ model: testModel, messages: [{ role: 'user', content: 'x' }] })
      .catch((caught: unknown) => caught);
    expect((error as InstanceType<typeof OpenAI.APIError>).status).toBe(404);
    const bad = await client('tw_nope')
      .models.list()
      .catch((caught: unknown) => caught);
    expect((bad as InstanceType<typeof OpenAI.APIError>).status).toBe(401);
  });

  it('leaves the ledger sound', async () => {
    expect(await checkInvariants(database().db)).toEqual([]);
  });
});
