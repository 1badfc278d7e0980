import { afterEach, describe, expect, it } from 'vitest';
import { type VllmSim } from './server';
import { clientFor, startTestSim } from './test-kit';

const messages = [{ role: 'user' as const, content: 'work' }];
// Slow enough that requests overlap; every assertion is about order and counts, never durations.
const overlapLatency = { ttftMs: 5, tpotMs: 5, tpotGrowthPerRunningSeq: 0 };

async function until(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 2000 && !condition(); i++) await new Promise((resolve) => setTimeout(resolve, 2));
  expect(condition()).toBe(true);
}

describe('scheduling', () => {
  let sim: VllmSim;
  afterEach(() => sim.close());

  function run(label: string, priority: number, order: string[], maxTokens = 20) {
    return clientFor(sim)
      .chat.completions.create({
        model: sim.model,
        messages,
        max_tokens: maxTokens,
        ignore_eos: true,
        priority,
      } as never)
      .then((completion: { choices: Array<{ message: { content: string | null } }> }) => {
        order.push(label);
        return completion.choices[0]?.message.content;
      });
  }

  it('refuses a non-zero priority without priority scheduling, with vLLM message and status', async () => {
    sim = await startTestSim();
    await expect(
      clientFor(sim).chat.completions.create({ model: sim.model, messages, priority: 1 } as never),
    ).rejects.toMatchObject({
      status: 400,
      error: { message: 'Got priority 1 but Priority scheduling is not enabled.', type: 'BadRequestError', code: 400 },
    });
    const ok = await clientFor(sim).chat.completions.create({
      model: sim.model,
      messages,
      max_tokens: 1,
      priority: 0,
    } as never);
    expect(ok.choices).toHaveLength(1);
  });

  it('can ignore the priority instead, as vLLM V1 does', async () => {
    sim = await startTestSim({ priorityWithoutPolicy: 'ignore' });
    const ok = await clientFor(sim).chat.completions.create({
      model: sim.model,
      messages,
      max_tokens: 1,
      priority: 3,
    } as never);
    expect(ok.choices).toHaveLength(1);
  });

  it('serves waiting requests first come, first served under fcfs', async () => {
    sim = await startTestSim({ maxNumSeqs: 1, latency: overlapLatency });
    const order: string[] = [];
    const first = run('first', 0, order);
    await until(() => sim.metrics().running === 1);
    const second = run('second', 0, order);
    await until(() => sim.metrics().waiting === 1);
    const third = run('third', 0, order);
    await Promise.all([first, second, third]);
    expect(order).toEqual(['first', 'second', 'third']);
  });

  it('lets an urgent request overtake low-priority ones that waited longer', async () => {
    sim = await startTestSim({
      maxNumSeqs: 1,
      schedulingPolicy: 'priority',
      preemption: false,
      latency: overlapLatency,
    });
    const order: string[] = [];
    const running = run('running', 5, order);
    await until(() => sim.metrics().running === 1);
    const low = run('low', 5, order);
    await until(() => sim.metrics().waiting === 1);
    const urgent = run('urgent', -1, order);
    await until(() => sim.metrics().waiting === 2);
    await Promise.all([running, low, urgent]);
    expect(order).toEqual(['running', 'urgent', 'low']);
    expect(sim.metrics().preemptions).toBe(0);
  });

  it('preempts the lowest-priority running request, which resumes later with the same text', async () => {
    sim = await startTestSim({ maxNumSeqs: 1, schedulingPolicy: 'priority', latency: overlapLatency });
    // A long victim (about 1 s of tokens), so the urgent request arrives while it runs on a busy machine too.
    const victimTokens = 200;
    const reference = await run('reference', 5, [], victimTokens);
    const order: string[] = [];
    const victim = run('victim', 5, order, victimTokens);
    await until(() => sim.metrics().generationTokens >= victimTokens + 3);
    const urgent = run('urgent', -1, order, 5);
    const [victimText] = await Promise.all([victim, urgent]);
    expect(order).toEqual(['urgent', 'victim']);
    expect(victimText).toBe(reference);
    expect(sim.metrics().preemptions).toBe(1);
    expect(sim.metricsText()).toMatch(/vllm:num_preemptions_total\{[^}]*\} 1\.0/);
  });

  it('frees the slot of a client that disconnects and counts the request as aborted', async () => {
    sim = await startTestSim({ maxNumSeqs: 1, latency: overlapLatency });
    const controller = new AbortController();
    const stream = await clientFor(sim).chat.completions.create(
      { messages, max_tokens: 8000, ignore_eos: true, stream: true } as never,
      { signal: controller.signal },
    );
    const iterator = (stream as unknown as AsyncIterable<unknown>)[Symbol.asyncIterator]();
    await iterator.next();
    await iterator.next();
    controller.abort();
    await until(() => sim.metrics().requestSuccess.abort === 1);
    expect(sim.metrics().running).toBe(0);
    const after = await clientFor(sim).chat.completions.create({ model: sim.model, messages, max_tokens: 2 });
    expect(after.usage?.completion_tokens).toBe(2);
  });
});
