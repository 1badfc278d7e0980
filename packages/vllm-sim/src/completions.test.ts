import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type VllmSim } from './server';
import { countTokens } from './tokenizer';
import { clientFor, postJson, readSse, startTestSim } from './test-kit';

describe('POST /v1/completions', () => {
  let sim: VllmSim;
  beforeAll(async () => {
    sim = await startTestSim({ outputTokens: { min: 40, max: 40 } });
  });
  afterAll(() => sim.close());

  it('defaults max_tokens to 16 as vLLM does, and counts prompt tokens with the documented tokenizer', async () => {
    const completion = await clientFor(sim).completions.create({ model: 'sim-model', prompt: 'Once upon a time' });
    expect(completion.object).toBe('text_completion');
    expect(completion.id).toMatch(/^cmpl-/);
    expect(completion.choices[0]?.finish_reason).toBe('length');
    expect(completion.usage).toMatchObject({ prompt_tokens: countTokens('Once upon a time'), completion_tokens: 16 });
  });

  it('indexes choices of batched prompts as prompt * n + i and sums usage', async () => {
    const completion = await clientFor(sim).completions.create({
      model: 'sim-model',
      prompt: ['a b', 'c d e'],
      n: 2,
      max_tokens: 3,
    });
    expect(completion.choices.map((c) => c.index)).toEqual([0, 1, 2, 3]);
    expect(completion.usage).toMatchObject({
      prompt_tokens: countTokens('a b') + countTokens('c d e'),
      completion_tokens: 12,
    });
  });

  it('streams text_completion chunks with usage null, then the usage chunk and [DONE]', async () => {
    const response = await fetch(`${sim.url}/v1/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ prompt: 'hi', max_tokens: 3, stream: true, stream_options: { include_usage: true } }),
    });
    expect(response.headers.get('content-type')).toContain('text/event-stream');
    const events = await readSse(response);
    expect(events.at(-1)).toBe('[DONE]');
    const chunks = events
      .slice(0, -1)
      .map((e) => JSON.parse(e) as { choices: Array<{ text: string; finish_reason: string | null }>; usage: unknown });
    expect(chunks.slice(0, -1).every((c) => c.usage === null && c.choices.length === 1)).toBe(true);
    expect(chunks.at(-2)?.choices[0]?.finish_reason).toBe('length');
    expect(chunks.at(-1)).toMatchObject({
      choices: [],
      usage: { prompt_tokens: 1, completion_tokens: 3, total_tokens: 4 },
    });
  });

  it('refuses an empty prompt', async () => {
    const { status, body } = await postJson(`${sim.url}/v1/completions`, { prompt: '' });
    expect(status).toBe(400);
    expect(JSON.stringify(body)).toContain('Either prompt or prompt_embeds must be provided and non-empty.');
  });
});
