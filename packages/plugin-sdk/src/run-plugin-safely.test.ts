import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { type PluginDefinition, definePlugin } from './define-plugin';
import { type ScoreResult } from './score-result';
import { runPluginSafely } from './run-plugin-safely';
import { createTestContext } from './testing/test-context';
import { makeScoreInput } from './testing/make-score-input';
import { scriptedLlm } from './testing/scripted-llm';
import { type PluginContext } from './context';

const configSchema = z.object({ bonus: z.number().min(0).max(1).default(0) });
type Config = z.infer<typeof configSchema>;

function plugin(
  score: (input: { config: Config }, ctx: PluginContext) => Promise<unknown>,
  overrides: Partial<PluginDefinition<Config>> = {},
): PluginDefinition<Config> {
  return {
    ...definePlugin({
      id: 'test-plugin',
      version: '1.0.0',
      configSchema,
      score: score as PluginDefinition<Config>['score'],
    }),
    ...overrides,
  };
}

const input = makeScoreInput<unknown>({ config: {} });
const run = (p: PluginDefinition<Config>, ctx = createTestContext(), timeoutMs = 1_000) =>
  runPluginSafely(p, input, ctx, { timeoutMs });

describe('runPluginSafely', () => {
  it('returns a valid result, with the config parsed (defaults applied) by the plugin schema', async () => {
    const seen: Config[] = [];
    const good = plugin(async ({ config }) => {
      seen.push(config);
      return {
        status: 'scored',
        score: 0.5 + config.bonus,
        confidence: 0.9,
        evidence: {},
        rationale: 'fine',
      } satisfies ScoreResult;
    });
    expect(await run(good)).toEqual({ status: 'scored', score: 0.5, confidence: 0.9, evidence: {}, rationale: 'fine' });
    expect(seen).toEqual([{ bonus: 0 }]);
  });

  it('turns a rejection into an error result and logs it', async () => {
    const ctx = createTestContext();
    const outcome = await run(
      plugin(() => Promise.reject(new TypeError('boom'))),
      ctx,
    );
    expect(outcome).toEqual({
      status: 'error',
      error: { kind: 'threw', message: 'Plugin "test-plugin" threw: TypeError: boom' },
    });
    expect(ctx.logs).toEqual([
      expect.objectContaining({
        level: 'warn',
        message: 'scoring plugin failed',
        fields: expect.objectContaining({ pluginId: 'test-plugin', kind: 'threw' }),
      }),
    ]);
  });

  it('catches a synchronous throw from a score that is not async', async () => {
    const outcome = await run(
      plugin(() => {
        throw new Error('sync');
      }),
    );
    expect(outcome).toMatchObject({
      status: 'error',
      error: { kind: 'threw', message: expect.stringContaining('sync') },
    });
  });

  it('describes a rejection with a non-Error value', async () => {
    expect(await run(plugin(() => Promise.reject({ weird: true })))).toMatchObject({
      error: { kind: 'threw', message: expect.stringContaining('{"weird":true}') },
    });
    expect(await run(plugin(() => Promise.reject(undefined)))).toMatchObject({ error: { kind: 'threw' } });
  });

  it('times a hanging plugin out and aborts its in-flight LLM call', async () => {
    let aborted = false;
    const llm = scriptedLlm(
      (request) =>
        new Promise((_, reject) =>
          request.signal?.addEventListener('abort', () => ((aborted = true), reject(new Error('aborted')))),
        ),
    );
    const hanging = plugin(async (_input, ctx) => {
      await ctx.llm.chat({ model: 'judge', messages: [{ role: 'user', content: 'x' }] });
      return { status: 'pending', reason: 'unreachable' };
    });
    const started = Date.now();
    const outcome = await run(hanging, createTestContext({ llm }), 100);
    expect(outcome).toEqual({
      status: 'error',
      error: { kind: 'timeout', message: 'Plugin "test-plugin" did not answer within 100 ms.' },
    });
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(aborted).toBe(true);
  });

  it('times out a plugin whose promise never settles', async () => {
    expect(
      await run(
        plugin(() => new Promise(() => {})),
        createTestContext(),
        50,
      ),
    ).toMatchObject({ error: { kind: 'timeout' } });
  });

  it.each([
    ['undefined', undefined],
    ['a score above 1', { status: 'scored', score: 7, confidence: 1, evidence: {}, rationale: '' }],
    ['a bare number', 0.5],
    [
      'a result with a throwing getter',
      Object.defineProperty({ status: 'pending' }, 'reason', {
        enumerable: true,
        get: () => {
          throw new Error('getter');
        },
      }),
    ],
  ])('turns garbage (%s) into invalid_result', async (_what, garbage) => {
    expect(await run(plugin(() => Promise.resolve(garbage)))).toMatchObject({
      status: 'error',
      error: { kind: 'invalid_result' },
    });
  });

  it('refuses to run with a config its schema rejects, naming the field', async () => {
    const outcome = await runPluginSafely(
      plugin(() => Promise.resolve({ status: 'pending', reason: 'x' })),
      makeScoreInput<unknown>({ config: { bonus: 5 } }),
      createTestContext(),
      { timeoutMs: 100 },
    );
    expect(outcome).toMatchObject({
      status: 'error',
      error: { kind: 'invalid_config', message: expect.stringMatching(/bonus: /) },
    });
  });

  it('refuses a plugin built for another SDK major', async () => {
    const outcome = await run(
      plugin(() => Promise.resolve({ status: 'pending', reason: 'x' }), { sdkVersion: '2.0.0' }),
    );
    expect(outcome).toMatchObject({ status: 'error', error: { kind: 'incompatible_sdk' } });
  });

  it("refuses a nonsensical timeout: that is the caller's bug", async () => {
    await expect(
      run(
        plugin(() => Promise.resolve({ status: 'pending', reason: 'x' })),
        createTestContext(),
        0,
      ),
    ).rejects.toThrow(RangeError);
  });
});
