import { ConfigError } from '@tokenwise/core';
import { describe, expect, it } from 'vitest';
import { createTestContext, makeScoreInput, scriptedLlm } from './index';

describe('scriptedLlm', () => {
  it('answers in script order, repeats a text for n choices and records every call', async () => {
    const llm = scriptedLlm(['Y', ['A', 'B'], new Error('upstream down')]);
    const first = await llm.chat({ model: 'judge', messages: [{ role: 'user', content: 'one two three' }], n: 2 });
    expect(first.choices.map((choice) => choice.content)).toEqual(['Y', 'Y']);
    expect(first.usage).toEqual({ promptTokens: 3, completionTokens: 2 });
    expect((await llm.chat({ model: 'judge', messages: [] })).choices.map((choice) => choice.content)).toEqual([
      'A',
      'B',
    ]);
    await expect(llm.chat({ model: 'judge', messages: [] })).rejects.toThrow('upstream down');
    await expect(llm.chat({ model: 'judge', messages: [] })).rejects.toThrow(/no scripted answer left for call #4/);
    expect(llm.calls).toHaveLength(4);
    expect(llm.calls[0]).toMatchObject({ n: 2 });
  });

  it('lets a responder compute each answer from the request', async () => {
    const llm = scriptedLlm((request, index) => `${request.model}#${index}`);
    expect((await llm.chat({ model: 'm', messages: [] })).choices[0]?.content).toBe('m#0');
    expect((await llm.chat({ model: 'm', messages: [] })).choices[0]?.content).toBe('m#1');
    expect(llm.remaining()).toBe(0);
  });

  it('passes a full response through untouched', async () => {
    const response = {
      choices: [{ content: '{"choice":"Y"}' }],
      usage: { promptTokens: 100, completionTokens: 5 },
      requestId: 'req-1',
    };
    expect(await scriptedLlm([response]).chat({ model: 'm', messages: [] })).toBe(response);
  });
});

describe('createTestContext', () => {
  it('has a fixed clock, named secrets, recorded logs, and no network or LLM unless given', async () => {
    const ctx = createTestContext({ secrets: { TOKEN: 't' }, now: new Date('2030-05-01T00:00:00Z') });
    expect(ctx.clock.now().toISOString()).toBe('2030-05-01T00:00:00.000Z');
    expect(ctx.secrets.get('TOKEN')).toBe('t');
    expect(() => ctx.secrets.get('OTHER')).toThrow(ConfigError);
    ctx.logger.info('hello', { a: 1 });
    expect(ctx.logs).toEqual([{ level: 'info', message: 'hello', fields: { a: 1 } }]);
    await expect(ctx.fetch('https://example.com/x')).rejects.toThrow(/no fetch was given/);
    await expect(ctx.llm.chat({ model: 'm', messages: [] })).rejects.toThrow(/no scripted answer left/);
    expect(ctx.signal.aborted).toBe(false);
  });

  it('takes a moving clock', () => {
    let t = 0;
    const ctx = createTestContext({ now: () => new Date(t++ * 1000) });
    expect(ctx.clock.now().getTime()).toBe(0);
    expect(ctx.clock.now().getTime()).toBe(1000);
  });
});

describe('makeScoreInput', () => {
  it('fills a plausible request and takes overrides', () => {
    const input = makeScoreInput({ completion: 'Berlin', tags: { ideal: 'Paris' }, config: { judgeModel: 'j' } });
    expect(input).toMatchObject({
      completion: 'Berlin',
      tags: { ideal: 'Paris' },
      config: { judgeModel: 'j' },
      cost: { minorUnits: 2_200n, currency: 'innovation' },
    });
    expect(typeof input.cost.minorUnits).toBe('bigint');
  });
});
