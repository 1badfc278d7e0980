import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { requestEmissions } from '../carbon/request-emissions';
import { ValidationError } from '../errors';
import { InvariantError } from '../invariant';
import { assertCostWithinEstimate, estimateAdmission, type AdmissionPolicy } from './admission-estimate';
import { quoteCost } from './cost';
import { parsePriceList, priorityTiers } from './price-list';
import { samplePriceListInput } from './test-fixtures';

const priceList = parsePriceList(samplePriceListInput());
const carbonModel = { totalParamsBillions: 8.03, activeParamsBillions: 8.03 };
const cluster = { region: 'eu-test', gridIntensityGCo2ePerKwh: 300 };
const co2eMicrogramsForOutputTokens = (outputTokens: number) =>
  requestEmissions(carbonModel, cluster, { outputTokens }).co2eMicrograms;
const policy: AdmissionPolicy = { completionTokensCap: 1_024, enforceCompletionTokensCap: true };

function estimate(body: Record<string, unknown>, overrides: Partial<AdmissionPolicy> = {}) {
  const endpoint = body.messages === undefined ? 'completions' : 'chat';
  return estimateAdmission({
    priceList,
    modelId: 'llama-3-8b',
    tier: 'normal',
    endpoint,
    body,
    policy: { ...policy, ...overrides },
    co2eMicrogramsForOutputTokens,
  });
}

const hello = [{ role: 'user', content: 'hello' }];

describe('the admission estimate', () => {
  it('writes the policy cap into the forwarded body when the client sent no max_tokens', () => {
    const result = estimate({ messages: hello });
    expect(result.forwardedMaxTokens).toBe(1_024);
    expect(result.completionTokensBound).toBe(1_024);
  });

  it('clamps a larger max_tokens to an enforced cap, and honours it when the cap is only a default', () => {
    expect(estimate({ messages: hello, max_tokens: 5_000 }).forwardedMaxTokens).toBe(1_024);
    const lenient = estimate({ messages: hello, max_tokens: 5_000 }, { enforceCompletionTokensCap: false });
    expect(lenient.forwardedMaxTokens).toBe(5_000);
    expect(lenient.completionTokensBound).toBe(5_000);
  });

  it('takes the smaller of max_completion_tokens and max_tokens, forwards it as the one cap, and multiplies by n, best_of and the number of prompts', () => {
    const chat = estimate({ messages: hello, max_completion_tokens: 100, max_tokens: 900, n: 3 });
    expect(chat.completionTokensPerChoice).toBe(100);
    expect(chat.completionTokensBound).toBe(300);
    expect(chat.forwardedMaxTokens).toBe(100);
    expect(estimate({ messages: hello, max_completion_tokens: 900, max_tokens: 100 }).forwardedMaxTokens).toBe(100);
    const completions = estimate({ prompt: ['a', 'b'], max_tokens: 10, n: 2, best_of: 5 });
    expect(completions.completionTokensBound).toBe(10 * 5 * 2);
  });

  it('refuses counts it cannot honour, naming the field', () => {
    expect(() => estimate({ messages: hello, max_tokens: 0 })).toThrow(/max_tokens must be an integer from 1/);
    expect(() => estimate({ messages: hello, n: 1_000 })).toThrow(/n must be an integer from 1 to 128/);
    expect(() => estimate({ input: 'x' })).toThrow(ValidationError);
    expect(() =>
      estimate({ messages: hello, max_tokens: 1_000_000_000, n: 2 }, { enforceCompletionTokensCap: false }),
    ).toThrow(/per-request limit/);
  });

  it("reads the fields of the endpoint the body was sent to, never the other endpoint's", () => {
    const prompts = Array.from({ length: 64 }, (_, index) => `prompt ${index}`);
    // A completions body with a stray one-message `messages`: 64 prompts run, so 64 are held.
    const completions = estimateAdmission({
      priceList,
      modelId: 'llama-3-8b',
      tier: 'normal',
      endpoint: 'completions',
      body: { prompt: prompts, messages: hello, max_tokens: 300 },
      policy,
      co2eMicrogramsForOutputTokens,
    });
    expect(completions.completionTokensBound).toBe(300 * 64);
    // A chat body with a stray `prompt`: only the messages run.
    const chat = estimateAdmission({
      priceList,
      modelId: 'llama-3-8b',
      tier: 'normal',
      endpoint: 'chat',
      body: { messages: hello, prompt: prompts, max_tokens: 300 },
      policy,
      co2eMicrogramsForOutputTokens,
    });
    expect(chat.completionTokensBound).toBe(300);
    expect(() =>
      estimateAdmission({
        priceList,
        modelId: 'llama-3-8b',
        tier: 'normal',
        endpoint: 'completions',
        body: { messages: hello },
        policy,
        co2eMicrogramsForOutputTokens,
      }),
    ).toThrow(/prompt must be/);
    expect(() =>
      estimateAdmission({
        priceList,
        modelId: 'llama-3-8b',
        tier: 'normal',
        endpoint: 'chat',
        body: { prompt: 'x' },
        policy,
        co2eMicrogramsForOutputTokens,
      }),
    ).toThrow(/messages must be/);
  });

  it('counts a suffix, response_format and chat_template_kwargs, and refuses kwargs that are not flat scalars or beam search', () => {
    const plain = estimate({ prompt: 'x', max_tokens: 1 });
    expect(estimate({ prompt: 'x', suffix: 'y'.repeat(500), max_tokens: 1 }).promptTokensBound).toBeGreaterThanOrEqual(
      plain.promptTokensBound + 500,
    );
    const schema = {
      type: 'json_schema',
      json_schema: { name: 's', schema: { type: 'object', description: 'd'.repeat(800) } },
    };
    expect(estimate({ messages: hello, response_format: schema }).promptTokensBound).toBeGreaterThanOrEqual(
      estimate({ messages: hello }).promptTokensBound + 800,
    );
    expect(
      estimate({ messages: hello, chat_template_kwargs: { enable_thinking: false } }).promptTokensBound,
    ).toBeGreaterThan(estimate({ messages: hello }).promptTokensBound);
    expect(() => estimate({ messages: hello, chat_template_kwargs: { nested: { a: 1 } } })).toThrow(
      /flat object of strings, numbers and booleans/,
    );
    expect(() => estimate({ messages: hello, chat_template_kwargs: { text: 'x'.repeat(2_000) } })).toThrow(
      /at most 1024 bytes/,
    );
    expect(() => estimate({ messages: hello, use_beam_search: true })).toThrow(/use_beam_search/);
    expect(estimate({ messages: hello, use_beam_search: false }).completionTokensBound).toBe(1_024);
  });

  it('catches an actual cost above the estimate', () => {
    const result = estimate({ messages: hello, max_tokens: 10 });
    const over = quoteCost(priceList, {
      modelId: 'llama-3-8b',
      tier: 'normal',
      inputTokens: result.promptTokensBound,
      outputTokens: 10_000,
      co2eMicrograms: 0n,
    });
    expect(() => assertCostWithinEstimate(result, over)).toThrow(InvariantError);
    const otherTier = quoteCost(priceList, { modelId: 'llama-3-8b', tier: 'urgent', inputTokens: 1, outputTokens: 1 });
    expect(() => assertCostWithinEstimate(result, otherTier)).toThrow(/not for the estimated request/);
  });

  const text = fc.oneof(
    fc.string({ unit: 'binary', maxLength: 200 }),
    fc.string({ unit: 'grapheme', maxLength: 50 }),
    fc.constantFrom('😀👍🏽', 'naïve café', '中文字符', ''),
  );
  const message = fc.record(
    {
      role: fc.constantFrom('system', 'user', 'assistant', 'tool'),
      content: fc.oneof(
        text,
        fc.array(
          text.map((t) => ({ type: 'text', text: t })),
          { maxLength: 3 },
        ),
        fc.constant(null),
      ),
      name: text,
      tool_call_id: fc.string({ maxLength: 20 }),
      tool_calls: fc.array(
        fc.record({
          id: fc.string({ maxLength: 8 }),
          type: fc.constant('function'),
          function: fc.record({ name: text, arguments: fc.oneof(fc.json({ maxDepth: 2 }), text) }),
        }),
        { maxLength: 2 },
      ),
    },
    { requiredKeys: ['role', 'content'] },
  );
  const body = fc.record(
    {
      messages: fc.array(message, { minLength: 1, maxLength: 6 }),
      tools: fc.array(
        fc.record({
          type: fc.constant('function'),
          function: fc.record({ name: text, description: text, parameters: fc.jsonValue({ maxDepth: 2 }) }),
        }),
        { maxLength: 3 },
      ),
      max_tokens: fc.integer({ min: 1, max: 4_096 }),
      max_completion_tokens: fc.integer({ min: 1, max: 4_096 }),
      n: fc.integer({ min: 1, max: 4 }),
    },
    { requiredKeys: ['messages'] },
  );

  it('is never below the actual cost of any run within its bounds (prompt, completion, latency, tier)', () => {
    fc.assert(
      fc.property(
        body,
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.double({ min: 0, max: 600, noNaN: true }),
        fc.constantFrom(...priorityTiers),
        fc.boolean(),
        (request, promptShare, completionShare, latencySeconds, tier, enforce) => {
          const bound = estimateAdmission({
            priceList,
            modelId: 'llama-3-8b',
            tier,
            endpoint: 'chat',
            body: request,
            policy: { ...policy, enforceCompletionTokensCap: enforce },
            co2eMicrogramsForOutputTokens,
          });
          const inputTokens = Math.floor(bound.promptTokensBound * promptShare);
          const outputTokens = Math.floor(bound.completionTokensBound * completionShare);
          const co2eMicrograms = requestEmissions(carbonModel, cluster, {
            outputTokens,
            latencySeconds,
          }).co2eMicrograms;
          const actual = quoteCost(priceList, {
            modelId: 'llama-3-8b',
            tier,
            inputTokens,
            outputTokens,
            co2eMicrograms,
          });
          assertCostWithinEstimate(bound, actual);
          const atTheBound = quoteCost(priceList, {
            modelId: 'llama-3-8b',
            tier,
            inputTokens: bound.promptTokensBound,
            outputTokens: bound.completionTokensBound,
            co2eMicrograms: co2eMicrogramsForOutputTokens(bound.completionTokensBound),
          });
          expect(atTheBound.totals).toEqual(bound.cost.totals);
          if (enforce) expect(bound.completionTokensPerChoice).toBeLessThanOrEqual(policy.completionTokensCap);
        },
      ),
      { numRuns: 500 },
    );
  });
});
