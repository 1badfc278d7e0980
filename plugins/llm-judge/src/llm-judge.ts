import { type PluginContext, type ScoreInput, type ScoreResult, definePlugin } from '@tokenwise/plugin-sdk';
import { aggregateVerdicts, type SampleVerdict } from './aggregate';
import { type LlmJudgeConfig, llmJudgeConfigSchema } from './config';
import { buildJudgeMessages, judgeTexts, verdictResponseFormat } from './judge-prompt';
import { INVALID_CHOICE, parseChoiceJson, parseChoiceText } from './parse-choice';
import { sampleJudge } from './sample-judge';
import { createSpotlight } from './spotlight';

export const llmJudgeVersion = '0.1.0';

/** Eval-style model-graded scoring: a judge model classifies the completion by a rubric, n samples, agreement as confidence. */
export const llmJudge = definePlugin<LlmJudgeConfig>({
  id: 'llm-judge',
  version: llmJudgeVersion,
  configSchema: llmJudgeConfigSchema,
  score: scoreWithJudge,
});

async function scoreWithJudge(input: ScoreInput<LlmJudgeConfig>, ctx: PluginContext): Promise<ScoreResult> {
  const config = input.config;
  const supplied = input.tags[config.idealTag];
  const rubricUsesIdeal = config.promptTemplate.includes('{ideal}');
  if (rubricUsesIdeal && supplied === undefined) {
    return {
      status: 'not_applicable',
      reason: `The rubric compares with an ideal answer, but the request has no "${config.idealTag}" tag.`,
    };
  }
  // Every request tag comes from the client being judged: its ideal reaches the judge only when
  // the team allows it.
  const ideal = config.allowClientIdeal ? supplied : undefined;
  const texts = judgeTexts(input, ideal);
  const spotlight = createSpotlight(config.spotlighting, [texts.input, texts.completion, texts.ideal ?? '']);
  const samples = await sampleJudge(
    ctx.llm,
    {
      model: config.judgeModel,
      messages: buildJudgeMessages(config, texts, spotlight),
      maxTokens: config.maxTokens ?? (config.evalType === 'classify' && !config.useJsonSchema ? 16 : 1_024),
      temperature: config.temperature ?? (config.samples > 1 ? 0.7 : 0),
      signal: ctx.signal,
      ...(config.useJsonSchema ? { responseFormat: verdictResponseFormat(config) } : {}),
    },
    config.samples,
  );
  const verdicts: SampleVerdict[] = samples.texts.map((text) =>
    config.useJsonSchema
      ? parseChoiceJson(text, config.choices)
      : { choice: parseChoiceText(text, config.evalType, config.choices), reasoning: text },
  );
  if (verdicts.some((verdict) => verdict.choice === INVALID_CHOICE)) {
    ctx.logger.warn('judge answer names no choice', {
      requestId: input.requestId,
      judgeModel: config.judgeModel,
      evalType: config.evalType,
    });
  }
  const result = aggregateVerdicts(config, verdicts, {
    ...clientIdealEvidence(config, supplied, rubricUsesIdeal),
    judgeModel: config.judgeModel,
    evalType: config.evalType,
    parse: config.useJsonSchema ? 'json_schema' : 'text',
    spotlighting: config.spotlighting,
    truncated: texts.truncated,
    samplesRequested: config.samples,
    // Judge calls went through the metered client: charged to the judge system account.
    judgeUsage: { ...samples.usage },
    judgeRequestIds: [...samples.requestIds],
  });
  if (supplied === undefined || config.allowClientIdeal) return result;
  return {
    ...result,
    rationale: `${result.rationale} The client-supplied ideal answer (x-tokenwise-${config.idealTag}) was ignored: this team's llm-judge config does not set allowClientIdeal.`,
  };
}

/** What became of an ideal the client supplied: `used`, `ignored` (not allowed) or `unused` (the rubric has no {ideal}). */
function clientIdealEvidence(
  config: LlmJudgeConfig,
  supplied: string | undefined,
  rubricUsesIdeal: boolean,
): { clientIdeal?: 'used' | 'ignored' | 'unused' } {
  if (supplied === undefined) return {};
  if (!config.allowClientIdeal) return { clientIdeal: 'ignored' };
  return { clientIdeal: rubricUsesIdeal ? 'used' : 'unused' };
}
