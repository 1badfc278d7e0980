import { type VllmSim, startVllmSim } from '@tokenwise/vllm-sim';
import { type Server, createServer } from 'node:http';
import { type AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LlmCallError, createGatewayLlmClient } from './llm-client';

// The OpenAI wire against the vLLM-compatible simulator (the gateway speaks the same API).
describe('createGatewayLlmClient', () => {
  let sim: VllmSim;
  let silent: Server;
  let silentUrl: string;
  const seenHeaders: Record<string, string | string[] | undefined>[] = [];

  beforeAll(async () => {
    sim = await startVllmSim({ model: 'judge-model', seed: 7, latency: { ttftMs: 1, tpotMs: 1 } });
    silent = createServer((req) => {
      seenHeaders.push(req.headers);
    });
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    silentUrl = `http://127.0.0.1:${(silent.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await sim.close();
    silent.closeAllConnections();
    await new Promise((resolve) => silent.close(resolve));
  });

  it('returns n choices, usage and the request id', async () => {
    const llm = createGatewayLlmClient({ baseUrl: sim.url, apiKey: 'tw_system_judge', timeoutMs: 5_000 });
    const response = await llm.chat({
      model: 'judge-model',
      messages: [{ role: 'user', content: 'Grade this.' }],
      n: 3,
      maxTokens: 8,
      temperature: 0.7,
    });
    expect(response.choices).toHaveLength(3);
    for (const choice of response.choices) expect(typeof choice.content).toBe('string');
    expect(response.usage.promptTokens).toBeGreaterThan(0);
    expect(response.usage.completionTokens).toBeGreaterThan(0);
    expect(response.requestId).toMatch(/\S/);
  });

  it('accepts a base URL that already ends in /v1', async () => {
    const llm = createGatewayLlmClient({ baseUrl: `${sim.url}/v1/`, apiKey: 'k', timeoutMs: 5_000 });
    expect(
      (await llm.chat({ model: 'judge-model', messages: [{ role: 'user', content: 'hi' }], maxTokens: 2 })).choices,
    ).toHaveLength(1);
  });

  it('sends response_format json_schema so the answer follows the schema', async () => {
    const llm = createGatewayLlmClient({ baseUrl: sim.url, apiKey: 'k', timeoutMs: 5_000 });
    const schema = {
      type: 'object',
      properties: { choice: { type: 'string', enum: ['Y', 'N'] } },
      required: ['choice'],
      additionalProperties: false,
    };
    const response = await llm.chat({
      model: 'judge-model',
      messages: [{ role: 'user', content: 'Y or N?' }],
      responseFormat: { type: 'json_schema', jsonSchema: { name: 'verdict', schema, strict: true } },
      maxTokens: 64,
    });
    const verdict = JSON.parse(response.choices[0]?.content ?? '') as { choice: string };
    expect(['Y', 'N']).toContain(verdict.choice);
  });

  it('throws an LlmCallError with the status and the upstream message', async () => {
    const llm = createGatewayLlmClient({ baseUrl: sim.url, apiKey: 'k', timeoutMs: 5_000 });
    const call = llm.chat({ model: 'no-such-model', messages: [{ role: 'user', content: 'hi' }] });
    await expect(call).rejects.toThrow(LlmCallError);
    await expect(
      llm.chat({ model: 'no-such-model', messages: [{ role: 'user', content: 'hi' }] }),
    ).rejects.toMatchObject({ status: 404, message: expect.stringMatching(/HTTP 404: .*no-such-model/) });
  });

  it('times out against a server that never answers, sending the bearer key', async () => {
    const llm = createGatewayLlmClient({
      baseUrl: silentUrl,
      apiKey: 'tw_abc_secret',
      timeoutMs: 100,
      headers: { 'x-tokenwise-purpose': 'judge' },
    });
    await expect(llm.chat({ model: 'm', messages: [{ role: 'user', content: 'hi' }] })).rejects.toThrow(
      /timed out: .*did not answer within 100 ms/,
    );
    expect(seenHeaders.at(-1)).toMatchObject({ authorization: 'Bearer tw_abc_secret', 'x-tokenwise-purpose': 'judge' });
  });

  it('refuses an answer that is not a chat completion', async () => {
    const fakeFetch = () => Promise.resolve(new Response('{"choices":"nope"}', { status: 200 }));
    const llm = createGatewayLlmClient({
      baseUrl: 'http://127.0.0.1:1',
      apiKey: 'k',
      timeoutMs: 100,
      fetch: fakeFetch,
    });
    await expect(llm.chat({ model: 'm', messages: [] })).rejects.toThrow(/not a chat completion/);
  });
});
