import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type VllmSim } from './server';
import { clientFor, postJson, startTestSim } from './test-kit';

const messages = [{ role: 'user' as const, content: 'faulty' }];

async function until(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 2000 && !condition(); i++) await new Promise((resolve) => setTimeout(resolve, 2));
  expect(condition()).toBe(true);
}

describe('fault injection', () => {
  let sim: VllmSim;
  beforeAll(async () => {
    sim = await startTestSim({ latency: { ttftMs: 2, tpotMs: 2, tpotGrowthPerRunningSeq: 0 } });
  });
  afterEach(() => sim.clearFaults());
  afterAll(() => sim.close());

  it('answers 500 with vLLM InternalServerError JSON at the configured error rate', async () => {
    sim.setFaults({ errorRate: 1 });
    await expect(clientFor(sim).chat.completions.create({ model: sim.model, messages })).rejects.toMatchObject({
      status: 500,
      error: { message: 'Internal server error', type: 'InternalServerError', code: 500 },
    });
    sim.setFaults({ errorRate: 0 });
    const ok = await clientFor(sim).chat.completions.create({ model: sim.model, messages, max_tokens: 1 });
    expect(ok.choices).toHaveLength(1);
  });

  it('drops the connection mid-stream after K tokens and frees the slot', async () => {
    sim.setFaults({ dropConnection: { afterTokens: 3 } });
    const abortsBefore = sim.metrics().requestSuccess.abort;
    const stream = await clientFor(sim).chat.completions.create({
      model: sim.model,
      messages,
      max_tokens: 50,
      stream: true,
    });
    const contents: string[] = [];
    await expect(
      (async () => {
        for await (const chunk of stream) contents.push(chunk.choices[0]?.delta.content ?? '');
      })(),
    ).rejects.toThrow();
    // The role chunk, then at most the three tokens before the drop.
    expect(contents.length).toBeLessThanOrEqual(4);
    expect(sim.metrics().requestSuccess.abort).toBe(abortsBefore + 1);
    expect(sim.metrics().running).toBe(0);
  });

  it('stalls a request mid-generation: a later request finishes first', async () => {
    sim.setFaults({ stall: { afterTokens: 2, durationMs: 1500 } });
    const order: string[] = [];
    const stalled = clientFor(sim)
      .chat.completions.create({ model: sim.model, messages, max_tokens: 6 })
      .then((c) => {
        order.push('stalled');
        return c;
      });
    await until(() => sim.metrics().running === 1);
    sim.clearFaults();
    const quick = clientFor(sim)
      .chat.completions.create({ model: sim.model, messages, max_tokens: 6 })
      .then((c) => {
        order.push('quick');
        return c;
      });
    const [slow] = await Promise.all([stalled, quick]);
    expect(order).toEqual(['quick', 'stalled']);
    expect(slow.usage?.completion_tokens).toBe(6);
  });

  it('delays the first byte: headers of a later, undelayed request arrive first', async () => {
    sim.setFaults({ firstByteDelayMs: 1500 });
    const order: string[] = [];
    const delayed = fetch(`${sim.url}/v1/chat/completions`, {
      method: 'POST',
      body: JSON.stringify({ messages, max_tokens: 1 }),
    }).then((r) => {
      order.push('delayed');
      return r.text();
    });
    await new Promise((resolve) => setTimeout(resolve, 20));
    sim.clearFaults();
    const prompt = fetch(`${sim.url}/v1/chat/completions`, {
      method: 'POST',
      body: JSON.stringify({ messages, max_tokens: 1 }),
    }).then((r) => {
      order.push('prompt');
      return r.text();
    });
    await Promise.all([delayed, prompt]);
    expect(order).toEqual(['prompt', 'delayed']);
  });

  it('is configurable at runtime through POST /_sim/faults, which validates its body', async () => {
    const set = await postJson(`${sim.url}/_sim/faults`, { errorRate: 1 });
    expect(set).toMatchObject({ status: 200, body: { errorRate: 1, stall: null } });
    expect(sim.faults().errorRate).toBe(1);
    expect((await postJson(`${sim.url}/v1/completions`, { prompt: 'x' })).status).toBe(500);
    expect((await postJson(`${sim.url}/_sim/faults`, { errorRate: 2 })).status).toBe(400);
    expect((await postJson(`${sim.url}/_sim/faults`, { errorRate: 0 })).status).toBe(200);
    expect((await postJson(`${sim.url}/v1/completions`, { prompt: 'x', max_tokens: 1 })).status).toBe(200);
  });
});
