import { parsePriceList, quoteCost } from '@tokenwise/core';
import type { Database } from '@tokenwise/db';
import { usageRecords } from '@tokenwise/db/schema';
import { checkInvariants } from '@tokenwise/ledger';
import { openTestDatabase } from '@tokenwise/db/testing';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { droppedFieldsHeaderName } from './inference';
import {
  startGatewayWorld,
  startRecordingProxy,
  testModel,
  testPriceList,
  waitForUsageRows,
  type GatewayWorld,
  type RecordingProxy,
} from './test-kit';

const priceList = parsePriceList(testPriceList());

describe('what is held is what runs', () => {
  let database: Database;
  let world: GatewayWorld;
  let proxy: RecordingProxy;
  beforeAll(async () => {
    database = await openTestDatabase('pglite');
    proxy = await startRecordingProxy();
    world = await startGatewayWorld(database, {
      sim: { latency: { ttftMs: 2, tpotMs: 1 } },
      cluster: { replicas: [{ id: 'replica-0', url: proxy.url }] },
    });
    proxy.target = world.sims[0]?.url ?? '';
  });
  afterAll(async () => {
    await world?.close();
    await proxy?.close();
    await database?.close();
  });

  const post = (apiKey: string, path: string, body: unknown) =>
    fetch(`${world.gateway.url}/v1/${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });

  it('holds a completions request with a stray `messages` for all of its prompts, and charges what streamed', async () => {
    const { apiKey, wallets, userId } = await world.user({ innovation: 10_000_000n });
    const prompts = Array.from({ length: 64 }, (_, index) => `prompt number ${index}`);
    const response = await post(apiKey, 'completions', {
      model: testModel,
      messages: [{ role: 'user', content: 'hi' }],
      prompt: prompts,
      max_tokens: 200,
      ignore_eos: true,
      stream: true,
    });
    expect(response.status).toBe(200);
    expect(response.headers.get(droppedFieldsHeaderName)).toBe('messages');
    const held = BigInt(response.headers.get('x-tokenwise-hold-innovation') ?? '0');
    // 64 prompts x 200 tokens x 2 units per output token, at least.
    expect(held).toBeGreaterThanOrEqual(64n * 200n * 2n);
    const text = await response.text();
    expect(text.trimEnd().endsWith('data: [DONE]')).toBe(true);
    await waitForUsageRows(database, { userId });
    const [row] = await database.db.select().from(usageRecords).where(eq(usageRecords.userId, userId));
    expect(row).toMatchObject({ outcome: 'completed', completionTokens: 64 * 200 });
    const cost =
      quoteCost(priceList, {
        modelId: testModel,
        tier: 'normal',
        inputTokens: row?.promptTokens ?? 0,
        outputTokens: row?.completionTokens ?? 0,
      }).totals.innovation ?? 0n;
    expect(row?.cost).toBe(cost);
    expect(cost).toBeLessThanOrEqual(held);
    expect(await world.ledger.balance(wallets.innovation as string)).toMatchObject({
      posted: 10_000_000n - cost,
      debitsPending: 0n,
    });
  });

  it('refuses with 402 a completions request whose prompts the wallet cannot cover, whatever `messages` says', async () => {
    const { apiKey, wallets } = await world.user({ innovation: 5_000n });
    const prompts = Array.from({ length: 64 }, (_, index) => `prompt ${index}`);
    const response = await post(apiKey, 'completions', {
      model: testModel,
      messages: [{ role: 'user', content: 'hi' }],
      prompt: prompts,
      max_tokens: 200,
    });
    expect(response.status).toBe(402);
    expect(await world.ledger.balance(wallets.innovation as string)).toMatchObject({
      posted: 5_000n,
      debitsPending: 0n,
    });
  });

  it("forwards the endpoint's fields and vLLM's extras, one cap as max_tokens, and drops the rest, naming them", async () => {
    const { apiKey, userId } = await world.user({ innovation: 1_000_000n });
    proxy.bodies.length = 0;
    const response = await post(apiKey, 'chat/completions', {
      model: testModel,
      messages: [{ role: 'user', content: 'hello' }],
      max_completion_tokens: 10,
      max_tokens: 50,
      top_k: 5,
      min_p: 0.1,
      repetition_penalty: 1.1,
      ignore_eos: true,
      min_tokens: 2,
      stop_token_ids: [7],
      skip_special_tokens: false,
      seed: 3,
      tokenwise_priority: 'low',
      store: true,
      metadata: { a: 'b' },
      service_tier: 'flex',
      prediction: { type: 'content', content: 'x' },
      modalities: ['text'],
      verbosity: 'low',
      prompt_cache_key: 'k',
      request_id: 'someone-elses-request',
      prompt: 'a completions field',
      brand_new_openai_field: { any: 'thing' },
    });
    expect(response.status).toBe(200);
    const dropped = (response.headers.get(droppedFieldsHeaderName) ?? '').split(',');
    expect(dropped.sort()).toEqual([
      'brand_new_openai_field',
      'metadata',
      'modalities',
      'prediction',
      'prompt',
      'prompt_cache_key',
      'request_id',
      'service_tier',
      'store',
      'verbosity',
    ]);
    const forwarded = proxy.bodies.at(-1) ?? {};
    expect(forwarded).toMatchObject({
      max_tokens: 10,
      top_k: 5,
      min_p: 0.1,
      repetition_penalty: 1.1,
      ignore_eos: true,
      min_tokens: 2,
      stop_token_ids: [7],
      skip_special_tokens: false,
      seed: 3,
    });
    for (const field of [...dropped, 'max_completion_tokens', 'tokenwise_priority'])
      expect(forwarded).not.toHaveProperty(field);
    await waitForUsageRows(database, { userId });
    const [row] = await database.db.select().from(usageRecords).where(eq(usageRecords.userId, userId));
    expect(row?.completionTokens).toBe(10);
    const metrics = await (await fetch(`${world.gateway.url}/metrics`)).text();
    expect(metrics).toMatch(/tokenwise_gateway_dropped_fields_total\{field="store"\} [1-9]/);
    expect(metrics).toMatch(/tokenwise_gateway_dropped_fields_total\{field="other"\} [1-9]/);
    expect(metrics).not.toMatch(/brand_new_openai_field/);
  });

  it('names a dropped field with an unsafe name as "?" and keeps the header bounded', async () => {
    const { apiKey } = await world.user({ innovation: 1_000_000n });
    const junk = Object.fromEntries(Array.from({ length: 40 }, (_, index) => [`junk_${index}`, index]));
    const response = await post(apiKey, 'chat/completions', {
      model: testModel,
      messages: [{ role: 'user', content: 'x' }],
      max_tokens: 2,
      'evil\r\nset-cookie: a=b': 1,
      ...junk,
    });
    expect(response.status).toBe(200);
    const header = response.headers.get(droppedFieldsHeaderName) ?? '';
    expect(header.startsWith('?,junk_0,')).toBe(true);
    expect(header.endsWith(',+25 more')).toBe(true);
    expect(response.headers.get('set-cookie')).toBeNull();
  });

  it.each([
    ['chat/completions', 'chat_template', '{% for m in messages %}{{ m.content * 1000 }}{% endfor %}'],
    ['completions', 'prompt_embeds', 'AAAA'],
    ['chat/completions', 'logits_processors', ['my.module.Processor']],
    ['chat/completions', 'vllm_xargs', { a: 1 }],
    ['completions', 'kv_transfer_params', { do_remote_prefill: true }],
    ['chat/completions', 'use_beam_search', true],
  ])(
    'refuses %s with `%s` with a 400 naming it, charging nothing and sending nothing upstream',
    async (path, field, value) => {
      const { apiKey, wallets } = await world.user({ innovation: 1_000_000n });
      proxy.bodies.length = 0;
      const base = path === 'completions' ? { prompt: 'x' } : { messages: [{ role: 'user', content: 'x' }] };
      const response = await post(apiKey, path, { model: testModel, ...base, max_tokens: 2, [field]: value });
      expect(response.status).toBe(400);
      const body = (await response.json()) as { error: { message: string; param: string | null } };
      expect(body.error.param).toBe(field);
      expect(body.error.message).toContain(field);
      expect(proxy.bodies).toEqual([]);
      expect(await world.ledger.balance(wallets.innovation as string)).toMatchObject({
        posted: 1_000_000n,
        debitsPending: 0n,
      });
    },
  );

  it('accepts flat chat_template_kwargs and counts them, and refuses nested or oversized ones', async () => {
    const { apiKey } = await world.user({ innovation: 1_000_000n });
    const ok = await post(apiKey, 'chat/completions', {
      model: testModel,
      messages: [{ role: 'user', content: 'x' }],
      max_tokens: 2,
      chat_template_kwargs: { enable_thinking: false },
    });
    expect(ok.status).toBe(200);
    const nested = await post(apiKey, 'chat/completions', {
      model: testModel,
      messages: [{ role: 'user', content: 'x' }],
      max_tokens: 2,
      chat_template_kwargs: { system: { text: 'long' } },
    });
    expect(nested.status).toBe(400);
    expect(await nested.text()).toMatch(/chat_template_kwargs must be a flat object/);
  });

  it('leaves the ledger sound', async () => {
    expect(await checkInvariants(database.db)).toEqual([]);
  });
});
