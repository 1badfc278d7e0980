import { type ScoredResult } from '@tokenwise/plugin-sdk';
import { type LlmJudgeConfig, normalisedChoiceScores } from './config';
import { INVALID_CHOICE } from './parse-choice';

export interface SampleVerdict {
  readonly choice: string;
  readonly reasoning: string | undefined;
}

export const rationaleReasoningCharsMax = 600;

/**
 * As openai/evals aggregates: each sample scores its choice's (normalised) score and an invalid
 * answer the lowest; the score is their mean. The confidence is the share of samples that chose the
 * modal valid choice, so invalid answers and disagreement both lower it.
 */
export function aggregateVerdicts(
  config: LlmJudgeConfig,
  verdicts: readonly SampleVerdict[],
  evidence: Record<string, unknown>,
): ScoredResult {
  const scores = normalisedChoiceScores(config);
  const sampleScores = verdicts.map((verdict) => scores.get(verdict.choice) ?? 0);
  const score = sampleScores.reduce((sum, value) => sum + value, 0) / verdicts.length;
  const counts = new Map<string, number>();
  for (const verdict of verdicts) counts.set(verdict.choice, (counts.get(verdict.choice) ?? 0) + 1);
  // Ties go to the choice listed first, so the result does not depend on sample order.
  const modal = config.choices.reduce<string | undefined>(
    (best, choice) => ((counts.get(choice) ?? 0) > (best === undefined ? 0 : (counts.get(best) ?? 0)) ? choice : best),
    undefined,
  );
  const modalCount = modal === undefined ? 0 : (counts.get(modal) ?? 0);
  const invalid = counts.get(INVALID_CHOICE) ?? 0;
  return {
    status: 'scored',
    score: clampUnit(score),
    confidence: modalCount / verdicts.length,
    evidence: {
      ...evidence,
      samples: verdicts.map((verdict, index) => ({ choice: verdict.choice, score: round(sampleScores[index] ?? 0) })),
      choiceCounts: Object.fromEntries(counts),
      invalidSamples: invalid,
    } as ScoredResult['evidence'],
    rationale: rationale(config, verdicts, modal, modalCount, invalid, score),
  };
}

function rationale(
  config: LlmJudgeConfig,
  verdicts: readonly SampleVerdict[],
  modal: string | undefined,
  modalCount: number,
  invalid: number,
  score: number,
): string {
  const head =
    modal === undefined
      ? `No judge sample named a choice from ${config.choices.join('/')}; scored as the lowest choice.`
      : `${modalCount} of ${verdicts.length} judge samples chose "${modal}"; mean score ${score.toFixed(2)}.`;
  const invalidNote = invalid > 0 && modal !== undefined ? ` ${invalid} unparsable.` : '';
  const reasoning = verdicts.find((verdict) => verdict.choice === modal && verdict.reasoning)?.reasoning?.trim();
  const reason = reasoning
    ? ` Judge reasoning: ${reasoning.length > rationaleReasoningCharsMax ? `${reasoning.slice(0, rationaleReasoningCharsMax)}…` : reasoning}`
    : '';
  return `${head}${invalidNote} (${config.evalType}, judge ${config.judgeModel}.)${reason}`;
}

function clampUnit(value: number): number {
  return Math.min(1, Math.max(0, value));
}

function round(value: number): number {
  return Math.round(value * 1e6) / 1e6;
}
