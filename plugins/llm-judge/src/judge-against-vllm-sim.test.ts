import { createGatewayLlmClient, createPluginContext, loadPlugins, runPluginSafely } from '@tokenwise/plugin-sdk';
import { makeScoreInput } from '@tokenwise/plugin-sdk/testing';
import { type VllmSim, startVllmSim } from '@tokenwise/vllm-sim';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { llmJudge } from './llm-judge';

const workspaceDir = fileURLToPath(new URL('../../..', import.meta.url));

describe('llm-judge over the wire', () => {
  let sim: VllmSim;
  beforeAll(async () => {
    sim = await startVllmSim({ model: 'judge-model', seed: 11, latency: { ttftMs: 1, tpotMs: 1 } });
  });
  afterAll(async () => {
    await sim.close();
  });

  it('is found by the plugin loader in the workspace', async () => {
    const { loaded } = await loadPlugins({ workspaceDir, allowNpm: false });
    expect(loaded.find(({ plugin }) => plugin.id === 'llm-judge')).toMatchObject({
      source: 'plugins/llm-judge',
      plugin: { version: '0.1.0' },
    });
  });

  it('scores through the OpenAI chat API with json_schema verdicts and n samples, recording the judge usage', async () => {
    const ctx = createPluginContext({
      logger: { info: () => {}, warn: () => {}, error: () => {} },
      llm: createGatewayLlmClient({ baseUrl: sim.url, apiKey: 'tw_system_judge', timeoutMs: 10_000 }),
      fetchTimeoutMs: 1_000,
    });
    const input = makeScoreInput({ config: { judgeModel: 'judge-model', useJsonSchema: true, samples: 3 } });
    const outcome = await runPluginSafely(llmJudge, input, ctx, { timeoutMs: 10_000 });
    expect(outcome.status).toBe('scored');
    if (outcome.status !== 'scored') return;
    // The simulator fills the schema with sampled values: every verdict is a valid enum choice.
    expect(outcome.evidence).toMatchObject({ parse: 'json_schema', invalidSamples: 0, samplesRequested: 3 });
    expect(outcome.evidence.samples).toHaveLength(3);
    const usage = outcome.evidence.judgeUsage as { promptTokens: number; completionTokens: number; calls: number };
    expect(usage.calls).toBe(1);
    expect(usage.promptTokens).toBeGreaterThan(0);
    expect(outcome.evidence.judgeRequestIds).toHaveLength(1);
  });
});
