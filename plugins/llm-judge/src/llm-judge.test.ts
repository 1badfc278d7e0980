import { ValidationError } from '@tokenwise/core';
import { type ScoredResult, parsePluginConfig, runPluginSafely, validateScoreResult } from '@tokenwise/plugin-sdk';
import { createTestContext, makeScoreInput, scriptedLlm } from '@tokenwise/plugin-sdk/testing';
import { describe, expect, it } from 'vitest';
import llmJudgeDefault, { type LlmJudgeConfig, type LlmJudgeConfigInput, llmJudge } from './index';

const config = (overrides: Partial<LlmJudgeConfigInput> = {}): LlmJudgeConfig =>
  parsePluginConfig(llmJudge, { judgeModel: 'judge-model', ...overrides });

async function judge(
  answers: Parameters<typeof scriptedLlm>[0],
  overrides: Partial<LlmJudgeConfigInput> = {},
  inputOverrides: Parameters<typeof makeScoreInput>[0] = {},
) {
  const llm = scriptedLlm(answers);
  const ctx = createTestContext({ llm });
  const result = await llmJudge.score(makeScoreInput({ ...inputOverrides, config: config(overrides) }), ctx);
  validateScoreResult(result);
  return { result, llm, ctx };
}

describe('llm-judge plugin', () => {
  it('default-exports a frozen plugin definition', () => {
    expect(llmJudgeDefault).toBe(llmJudge);
    expect(llmJudge).toMatchObject({ id: 'llm-judge', version: '0.1.0', evidenceWindowSeconds: 0 });
    expect(Object.isFrozen(llmJudge)).toBe(true);
  });

  it('classify: one sample, its choice score, the evals answer prompt, usage in evidence', async () => {
    const { result, llm } = await judge(['Y'], { evalType: 'classify', samples: 1 });
    expect(result).toMatchObject({ status: 'scored', score: 1, confidence: 1 });
    const evidence = (result as ScoredResult).evidence;
    expect(evidence).toMatchObject({
      judgeModel: 'judge-model',
      evalType: 'classify',
      parse: 'text',
      spotlighting: 'datamark',
      samples: [{ choice: 'Y', score: 1 }],
      judgeRequestIds: ['scripted-1'],
    });
    expect(evidence.judgeUsage).toMatchObject({ calls: 1, completionTokens: 1 });
    const request = llm.calls[0];
    expect(request).toMatchObject({ model: 'judge-model', n: 1, maxTokens: 16, temperature: 0 });
    expect(request?.messages.at(-1)?.content).toMatch(
      /Answer the question by printing only a single choice from "Y" or "N" \(without quotes or punctuation\)/,
    );
    expect(request?.responseFormat).toBeUndefined();
  });

  it('cot_classify: takes the verdict from the last line and quotes the reasoning in the rationale', async () => {
    const { result, llm } = await judge(
      ['The task asks for the capital of France.\nThe submission says Paris, which is right.\nY\nY'],
      { samples: 1 },
    );
    expect(result).toMatchObject({ status: 'scored', score: 1 });
    expect((result as ScoredResult).rationale).toMatch(
      /^1 of 1 judge samples chose "Y"; mean score 1\.00\. \(cot_classify, judge judge-model\.\) Judge reasoning: The task asks/,
    );
    expect(llm.calls[0]?.messages.at(-1)?.content).toMatch(/step by step manner[\s\S]*Reasoning:$/);
  });

  it('cot_classify: an unparsable answer scores as the lowest choice with zero confidence', async () => {
    const { result, ctx } = await judge(['I am not sure what to say.'], { samples: 1 });
    expect(result).toMatchObject({
      status: 'scored',
      score: 0,
      confidence: 0,
      evidence: { invalidSamples: 1, samples: [{ choice: '__invalid__', score: 0 }] },
    });
    expect((result as ScoredResult).rationale).toMatch(
      /^No judge sample named a choice from Y\/N; scored as the lowest choice\./,
    );
    expect(ctx.logs.some((entry) => entry.level === 'warn' && entry.message === 'judge answer names no choice')).toBe(
      true,
    );
  });

  it('normalises choice scores: A..E with evals-style scores map to 0..1', async () => {
    const choiceScores = { A: 0.6, B: 0.8, C: 1, D: 0, E: 0.9 };
    const { result } = await judge([['Reasoning\nB', 'Reasoning\nD', 'Reasoning\nC']], {
      choices: ['A', 'B', 'C', 'D', 'E'],
      choiceScores,
    });
    expect((result as ScoredResult).score).toBeCloseTo((0.8 + 0 + 1) / 3, 10);
    expect(result).toMatchObject({ confidence: 1 / 3, evidence: { choiceCounts: { B: 1, D: 1, C: 1 } } });
  });

  it('samples: n answers from one call; the mean is the score and agreement the confidence', async () => {
    const { result, llm } = await judge([['…\nY', '…\nY', '…\nN', '…\nY', 'no idea']], { samples: 5 });
    expect(llm.calls).toHaveLength(1);
    expect(llm.calls[0]).toMatchObject({ n: 5, temperature: 0.7 });
    expect(result).toMatchObject({
      score: 3 / 5,
      confidence: 3 / 5,
      evidence: { invalidSamples: 1, choiceCounts: { Y: 3, N: 1, __invalid__: 1 } },
    });
    expect((result as ScoredResult).rationale).toMatch(
      /^3 of 5 judge samples chose "Y"; mean score 0\.60\. 1 unparsable\./,
    );
  });

  it('samples: asks again for the rest when the upstream ignores n, adding up the judge usage', async () => {
    const one = (content: string, id: string) => ({
      choices: [{ content }],
      usage: { promptTokens: 100, completionTokens: 20 },
      requestId: id,
    });
    const { result, llm } = await judge([one('x\nY', 'r1'), one('x\nN', 'r2'), one('x\nN', 'r3')], { samples: 3 });
    expect(llm.calls.map((call) => call.n)).toEqual([3, 2, 1]);
    expect(result).toMatchObject({
      score: 1 / 3,
      confidence: 2 / 3,
      evidence: {
        judgeUsage: { promptTokens: 300, completionTokens: 60, calls: 3 },
        judgeRequestIds: ['r1', 'r2', 'r3'],
      },
    });
  });

  it('json_schema: asks for {reasoning, choice} with choice an enum, and reads it', async () => {
    const { result, llm } = await judge(
      [['{"reasoning":"Paris is correct.","choice":"Y"}', '{"reasoning":"ok","choice":"Y"}', '{"choice":"Perhaps"}']],
      { useJsonSchema: true },
    );
    expect(llm.calls[0]?.responseFormat).toEqual({
      type: 'json_schema',
      jsonSchema: {
        name: 'judge_verdict',
        strict: true,
        schema: {
          type: 'object',
          properties: { reasoning: { type: 'string' }, choice: { type: 'string', enum: ['Y', 'N'] } },
          required: ['reasoning', 'choice'],
          additionalProperties: false,
        },
      },
    });
    expect(llm.calls[0]?.messages.at(-1)?.content).toMatch(/Reply with a JSON object/);
    expect(result).toMatchObject({
      score: 2 / 3,
      confidence: 2 / 3,
      evidence: { parse: 'json_schema', invalidSamples: 1 },
    });
    expect((result as ScoredResult).rationale).toMatch(/Judge reasoning: Paris is correct\.$/);
  });

  it('json_schema with classify asks for the choice only', async () => {
    const { llm } = await judge(['{"choice":"N"}'], { useJsonSchema: true, evalType: 'classify', samples: 1 });
    const format = llm.calls[0]?.responseFormat;
    expect(format?.type === 'json_schema' && format.jsonSchema.schema).toMatchObject({ required: ['choice'] });
  });

  it('fills {ideal} from the ideal tag where the team allows it, and is not applicable without it', async () => {
    const promptTemplate =
      'Question: {input}\nExpert: {ideal}\nSubmission: {completion}\nDoes the submission agree with the expert?';
    const { llm } = await judge(
      ['Y'],
      { promptTemplate, samples: 1, evalType: 'classify', allowClientIdeal: true },
      { tags: { ideal: 'Paris' } },
    );
    expect(llm.calls[0]?.messages.at(-1)?.content).toMatch(/Expert: <<BEGIN_DATA_[0-9a-f]{16}>>Paris<<END_DATA_/);
    const missing = await judge([], { promptTemplate }, { tags: {} });
    expect(missing.result).toEqual({
      status: 'not_applicable',
      reason: 'The rubric compares with an ideal answer, but the request has no "ideal" tag.',
    });
    expect(missing.llm.calls).toHaveLength(0);
  });

  it('substitutes placeholders once: a {completion} written inside the judged text stays literal', async () => {
    const { llm } = await judge(
      ['Y'],
      { samples: 1, spotlighting: 'none' },
      { completion: 'my {input} and {completion}' },
    );
    expect(llm.calls[0]?.messages.at(-1)?.content).toContain('[Submission]: my {input} and {completion}');
  });

  it('cuts judged texts to dataCharsMax and says so in the evidence', async () => {
    const { result, llm } = await judge(
      ['Y'],
      { samples: 1, dataCharsMax: 100, spotlighting: 'none' },
      { completion: 'x'.repeat(500) },
    );
    expect(llm.calls[0]?.messages.at(-1)?.content).toContain(`${'x'.repeat(100)} [truncated]`);
    expect(result).toMatchObject({ evidence: { truncated: true } });
  });

  it('a failing judge call becomes an error through runPluginSafely, never a crash', async () => {
    const ctx = createTestContext({
      llm: scriptedLlm([new Error('gateway: 402 insufficient funds in judge account')]),
    });
    const outcome = await runPluginSafely(llmJudge, makeScoreInput({ config: { judgeModel: 'judge-model' } }), ctx, {
      timeoutMs: 1_000,
    });
    expect(outcome).toMatchObject({
      status: 'error',
      error: { kind: 'threw', message: expect.stringMatching(/insufficient funds in judge account/) },
    });
  });

  it('runs through runPluginSafely with a raw team config (defaults applied by the schema)', async () => {
    const ctx = createTestContext({ llm: scriptedLlm([['r\nY', 'r\nY', 'r\nY']]) });
    const outcome = await runPluginSafely(llmJudge, makeScoreInput({ config: { judgeModel: 'judge-model' } }), ctx, {
      timeoutMs: 1_000,
    });
    expect(outcome).toMatchObject({
      status: 'scored',
      score: 1,
      confidence: 1,
      evidence: { evalType: 'cot_classify', spotlighting: 'datamark', samplesRequested: 3 },
    });
  });
});

describe('llm-judge config validation names the field', () => {
  it.each([
    [{ judgeModel: undefined }, /judgeModel: /],
    [{ judgeModel: '  ' }, /judgeModel: must name the judge model/],
    [{ promptTemplate: 'Grade {completion}' }, /promptTemplate: must contain the \{input\} placeholder/],
    [{ promptTemplate: 'Grade {input}' }, /promptTemplate: must contain the \{completion\} placeholder/],
    [{ choices: ['Y'] }, /choices: /],
    [{ choices: ['Y', 'N.'], choiceScores: { Y: 1, 'N.': 0 } }, /choices\.1: must have no punctuation/],
    [{ choices: ['Y', 'Y'], choiceScores: { Y: 1 } }, /choices\.1: duplicates choice "Y"/],
    [{ choices: ['A', 'B'] }, /choiceScores\.A: missing a score for choice "A"/],
    [{ choiceScores: { Y: 1, N: 0, M: 0.5 } }, /choiceScores\.M: scores "M", which is not one of the choices/],
    [{ choiceScores: { Y: 1, N: 1 } }, /choiceScores: must not give every choice the same score/],
    [{ choiceScores: { Y: 1, N: Number.NaN } }, /choiceScores\.N: /],
    [{ evalType: 'cot_classify_jp' }, /evalType: /],
    [{ samples: 10 }, /samples: /],
    [{ samples: 0 }, /samples: /],
    [{ spotlighting: 'off' }, /spotlighting: /],
    [{ temperature: 3 }, /temperature: /],
    [{ idealTag: 'Ideal Answer' }, /idealTag: /],
    [{ extra: true }, /extra/],
  ])('refuses %j', (raw, message) => {
    const attempt = () => parsePluginConfig(llmJudge, { judgeModel: 'judge-model', ...raw });
    expect(attempt).toThrow(ValidationError);
    expect(attempt).toThrow(message);
  });

  it('has safe defaults: cot_classify, Y/N, 3 samples, datamark spotlighting', () => {
    expect(config()).toMatchObject({
      evalType: 'cot_classify',
      choices: ['Y', 'N'],
      choiceScores: { Y: 1, N: 0 },
      samples: 3,
      spotlighting: 'datamark',
      useJsonSchema: false,
      idealTag: 'ideal',
    });
  });
});
