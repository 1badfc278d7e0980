import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type VllmSim } from './server';
import { clientFor, postJson, startTestSim } from './test-kit';

describe('models, health, tokenize and metrics endpoints', () => {
  let sim: VllmSim;
  beforeAll(async () => {
    sim = await startTestSim({ model: 'team/model-7b', root: '/models/model-7b', maxModelLen: 2048 });
  });
  afterAll(() => sim.close());

  it('lists the model as a vLLM ModelCard', async () => {
    const page = await clientFor(sim).models.list();
    expect(page.data).toHaveLength(1);
    const card = (await (await fetch(`${sim.url}/v1/models`)).json()) as {
      object: string;
      data: Array<Record<string, unknown>>;
    };
    expect(card.object).toBe('list');
    expect(card.data[0]).toMatchObject({
      id: 'team/model-7b',
      object: 'model',
      owned_by: 'vllm',
      root: '/models/model-7b',
      parent: null,
      max_model_len: 2048,
      permission: [
        {
          object: 'model_permission',
          allow_sampling: true,
          allow_logprobs: true,
          organization: '*',
          group: null,
          is_blocking: false,
        },
      ],
    });
  });

  it('answers /health with 200 and an empty body, and unknown paths with 404', async () => {
    const health = await fetch(`${sim.url}/health`);
    expect(health.status).toBe(200);
    expect(await health.text()).toBe('');
    expect((await fetch(`${sim.url}/nope`)).status).toBe(404);
    expect((await fetch(`${sim.url}/v1/chat/completions`)).status).toBe(405);
  });

  it('tokenizes chat messages to the same count a chat request reports', async () => {
    const messages = [{ role: 'user', content: 'How many tokens is this? ünïcödé' }];
    const { status, body } = await postJson(`${sim.url}/tokenize`, { model: 'team/model-7b', messages });
    expect(status).toBe(200);
    const tokenized = body as { count: number; max_model_len: number; tokens: number[]; token_strs: null };
    expect(tokenized.max_model_len).toBe(2048);
    expect(tokenized.tokens).toHaveLength(tokenized.count);
    expect(tokenized.token_strs).toBeNull();
    const completion = await clientFor(sim).chat.completions.create({
      model: 'team/model-7b',
      messages: [{ role: 'user', content: messages[0]!.content }],
      max_tokens: 1,
    });
    expect(completion.usage?.prompt_tokens).toBe(tokenized.count);
    const prompt = await postJson(`${sim.url}/tokenize`, { prompt: 'hello world' });
    expect(prompt.body).toMatchObject({ count: 4 }); // "hell" "o" " wor" "ld"
  });

  it('exposes Prometheus metrics with vLLM names and the model_name label', async () => {
    await clientFor(sim).chat.completions.create({
      model: 'team/model-7b',
      messages: [{ role: 'user', content: 'x' }],
      max_tokens: 3,
    });
    const text = await (await fetch(`${sim.url}/metrics`)).text();
    for (const name of [
      'vllm:num_requests_running',
      'vllm:num_requests_waiting',
      'vllm:prompt_tokens_total',
      'vllm:generation_tokens_total',
      'vllm:request_success_total',
      'vllm:time_to_first_token_seconds_bucket',
      'vllm:e2e_request_latency_seconds_count',
      'vllm:num_preemptions_total',
    ]) {
      expect(text, name).toContain(`${name}{model_name="team/model-7b"`);
    }
    expect(text).toMatch(
      /vllm:request_success_total\{model_name="team\/model-7b",engine="0",finished_reason="length"\} [1-9]/,
    );
    expect(text).toContain('# TYPE vllm:time_to_first_token_seconds histogram');
    expect(sim.metrics().generationTokens).toBeGreaterThanOrEqual(3);
  });
});
