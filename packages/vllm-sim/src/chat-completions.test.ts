import { Ajv } from 'ajv';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chatPromptTokensBound } from './chat-template';
import { type VllmSim } from './server';
import { clientFor, postJson, readSse, startTestSim } from './test-kit';

const messages = [
  { role: 'system' as const, content: 'You are terse.' },
  { role: 'user' as const, content: 'Résumé of the ledger, please 🙂 — ünïcödé' },
];

describe('POST /v1/chat/completions', () => {
  let sim: VllmSim;
  beforeAll(async () => {
    sim = await startTestSim({ maxModelLen: 4096, outputTokens: { min: 20, max: 30 } });
  });
  afterAll(() => sim.close());

  it('answers like vLLM, with prompt_tokens within the rendered template bytes', async () => {
    const completion = await clientFor(sim).chat.completions.create({ model: 'sim-model', messages, max_tokens: 8 });
    expect(completion.object).toBe('chat.completion');
    expect(completion.id).toMatch(/^chatcmpl-/);
    expect(completion.model).toBe('sim-model');
    expect(completion.choices).toHaveLength(1);
    expect(completion.choices[0]?.message.role).toBe('assistant');
    expect(completion.choices[0]?.finish_reason).toBe('length');
    const usage = completion.usage!;
    expect(usage.completion_tokens).toBe(8);
    expect(usage.total_tokens).toBe(usage.prompt_tokens + 8);
    expect(usage.prompt_tokens).toBeGreaterThan(0);
    expect(usage.prompt_tokens).toBeLessThanOrEqual(chatPromptTokensBound(messages));
  });

  it('repeats the same text for the same seed and request, and differs for another seed', async () => {
    const client = clientFor(sim);
    const ask = (seed: number) =>
      client.chat.completions
        .create({ model: sim.model, messages, seed, max_tokens: 12 })
        .then((c) => c.choices[0]?.message.content);
    const first = await ask(1);
    expect(await ask(1)).toBe(first);
    expect(await ask(2)).not.toBe(first);
  });

  it('prefers max_completion_tokens over max_tokens and stops naturally when neither cuts it', async () => {
    const client = clientFor(sim);
    const capped = await client.chat.completions.create({
      model: sim.model,
      messages,
      max_tokens: 50,
      max_completion_tokens: 3,
    });
    expect(capped.usage?.completion_tokens).toBe(3);
    const natural = await client.chat.completions.create({ model: sim.model, messages });
    expect(natural.choices[0]?.finish_reason).toBe('stop');
    expect(natural.usage?.completion_tokens).toBeGreaterThanOrEqual(20);
    expect(natural.usage?.completion_tokens).toBeLessThanOrEqual(30);
  });

  it('returns n choices with their own text, and usage over all of them', async () => {
    const completion = await clientFor(sim).chat.completions.create({
      model: sim.model,
      messages,
      n: 3,
      max_tokens: 5,
    });
    expect(completion.choices.map((c) => c.index)).toEqual([0, 1, 2]);
    expect(new Set(completion.choices.map((c) => c.message.content)).size).toBe(3);
    expect(completion.usage?.completion_tokens).toBe(15);
  });

  it('cuts at a stop string with finish_reason "stop" and the string as stop_reason', async () => {
    const full = await clientFor(sim).chat.completions.create({ model: sim.model, messages, seed: 9, max_tokens: 12 });
    const text = full.choices[0]!.message.content!;
    const words = text.split(' ').filter((w) => w.length > 0);
    const stopWord = ` ${words[4]}`;
    const expected = text.slice(0, text.indexOf(stopWord));
    const { status, body } = await postJson(`${sim.url}/v1/chat/completions`, {
      messages,
      seed: 9,
      max_tokens: 12,
      stop: [stopWord, 'never-there'],
    });
    expect(status).toBe(200);
    const choice = (
      body as { choices: Array<{ message: { content: string }; finish_reason: string; stop_reason: string }> }
    ).choices[0]!;
    expect(choice.message.content).toBe(expected);
    expect(choice.finish_reason).toBe('stop');
    expect(choice.stop_reason).toBe(stopWord);
  });

  it('streams role chunk, content chunks and [DONE], without usage unless asked', async () => {
    const client = clientFor(sim);
    const whole = await client.chat.completions.create({ model: sim.model, messages, seed: 4, max_tokens: 6 });
    const stream = await client.chat.completions.create({
      model: sim.model,
      messages,
      seed: 4,
      max_tokens: 6,
      stream: true,
    });
    const chunks = [];
    for await (const chunk of stream) chunks.push(chunk);
    expect(chunks[0]?.choices[0]?.delta).toEqual({ role: 'assistant', content: '' });
    expect(chunks.every((c) => c.usage === undefined && c.object === 'chat.completion.chunk')).toBe(true);
    expect(chunks.at(-1)?.choices[0]?.finish_reason).toBe('length');
    expect(chunks.map((c) => c.choices[0]?.delta.content ?? '').join('')).toBe(whole.choices[0]?.message.content);
    const raw = await readSse(
      await fetch(`${sim.url}/v1/chat/completions`, {
        method: 'POST',
        body: JSON.stringify({ messages, max_tokens: 2, stream: true }),
      }),
    );
    expect(raw.at(-1)).toBe('[DONE]');
  });

  it('sends usage in a final chunk with empty choices when include_usage is set', async () => {
    const stream = await clientFor(sim).chat.completions.create({
      model: sim.model,
      messages,
      max_tokens: 4,
      n: 2,
      stream: true,
      stream_options: { include_usage: true },
    });
    const chunks = [];
    for await (const chunk of stream) chunks.push(chunk);
    const last = chunks.at(-1)!;
    expect(last.choices).toEqual([]);
    expect(last.usage?.completion_tokens).toBe(8);
    expect(chunks.slice(0, -1).every((c) => c.usage === undefined)).toBe(true);
  });

  it('puts cumulative usage on every chunk with continuous_usage_stats', async () => {
    const stream = await clientFor(sim).chat.completions.create({
      model: sim.model,
      messages,
      max_tokens: 5,
      stream: true,
      stream_options: { include_usage: true },
      // vLLM extension, not in the openai types.
      ...({ stream_options: { include_usage: true, continuous_usage_stats: true } } as object),
    });
    const usages = [];
    for await (const chunk of stream) usages.push(chunk.usage);
    expect(usages.every((u) => u !== undefined && u !== null)).toBe(true);
    expect(usages.map((u) => u?.completion_tokens)).toEqual([0, 1, 2, 3, 4, 5, 5]);
    const prompt = usages[0]!.prompt_tokens;
    expect(usages.every((u) => u?.prompt_tokens === prompt && u.total_tokens === prompt + u.completion_tokens)).toBe(
      true,
    );
  });

  it('answers json_schema with JSON that conforms to the schema', async () => {
    const schema = {
      type: 'object',
      properties: {
        title: { type: 'string', maxLength: 20 },
        rating: { type: 'integer', minimum: 1, maximum: 5 },
        tags: { type: 'array', items: { enum: ['x', 'y'] }, minItems: 1 },
        meta: { type: 'object', properties: { ok: { type: 'boolean' } }, required: ['ok'] },
      },
      required: ['title', 'rating', 'tags', 'meta'],
      additionalProperties: false,
    };
    const completion = await clientFor(sim).chat.completions.create({
      model: sim.model,
      messages,
      response_format: { type: 'json_schema', json_schema: { name: 'review', schema, strict: true } },
    });
    const validate = new Ajv().compile(schema);
    const value = JSON.parse(completion.choices[0]!.message.content!) as unknown;
    expect(validate(value), JSON.stringify(validate.errors)).toBe(true);
    expect(completion.choices[0]?.finish_reason).toBe('stop');
    const object = await clientFor(sim).chat.completions.create({
      model: sim.model,
      messages,
      response_format: { type: 'json_object' },
    });
    expect(typeof JSON.parse(object.choices[0]!.message.content!)).toBe('object');
  });

  it('accepts unknown extra fields as vLLM does', async () => {
    const { status } = await postJson(`${sim.url}/v1/chat/completions`, {
      messages,
      max_tokens: 1,
      top_k: 5,
      made_up_field: { a: 1 },
    });
    expect(status).toBe(200);
  });

  it('refuses what vLLM refuses, with its error JSON', async () => {
    const url = `${sim.url}/v1/chat/completions`;
    const unknownModel = await postJson(url, { model: 'nope', messages });
    expect(unknownModel).toEqual({
      status: 404,
      body: {
        error: { message: 'The model `nope` does not exist.', type: 'NotFoundError', param: 'model', code: 404 },
      },
    });
    const tooLong = await postJson(url, { messages, max_tokens: 5000 });
    expect(tooLong.status).toBe(400);
    expect(tooLong.body).toMatchObject({ error: { type: 'BadRequestError', param: 'max_tokens', code: 400 } });
    expect(JSON.stringify(tooLong.body)).toContain("This model's maximum context length is 4096 tokens");
    const hugePrompt = await postJson(url, { messages: [{ role: 'user', content: 'word '.repeat(5000) }] });
    expect(hugePrompt.body).toMatchObject({ error: { param: 'input_tokens', code: 400 } });
    const streamOptions = await postJson(url, { messages, stream_options: { include_usage: true } });
    expect(streamOptions.body).toMatchObject({ error: { param: 'stream_options', code: 400 } });
    const badShape = await postJson(url, { messages: 'hello' });
    expect(badShape.body).toMatchObject({ error: { type: 'Bad Request', code: 400 } });
    await expect(clientFor(sim).chat.completions.create({ model: sim.model, messages, n: 0 })).rejects.toMatchObject({
      status: 400,
    });
  });
});
