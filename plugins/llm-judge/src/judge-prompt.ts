import { type ChatMessage, type ResponseFormat, type ScoreInput, promptText } from '@tokenwise/plugin-sdk';
import { type EvalType, type LlmJudgeConfig } from './config';
import { type Spotlight } from './spotlight';

/**
 * openai/evals `classify_utils.ANSWER_PROMPTS`, appended to the rubric (`append_type: as_content`)
 * with the choices written as `"Y" or "N"` (`choice_to_str`).
 */
export const answerPrompts: Readonly<Record<EvalType, string>> = {
  classify:
    'Answer the question by printing only a single choice from {choices} (without quotes or punctuation) corresponding to the correct answer with no other text.',
  cot_classify:
    'First, write out in a step by step manner your reasoning to be sure that your conclusion is correct. Avoid simply stating the correct answer at the outset. Then print only a single choice from {choices} (without quotes or punctuation) on its own line corresponding to the correct answer. At the end, repeat just the answer by itself on a new line.\n\nReasoning:',
};

const jsonAnswerPrompts: Readonly<Record<EvalType, string>> = {
  classify:
    'Reply with a JSON object whose "choice" field is a single choice from {choices} corresponding to the correct answer.',
  cot_classify:
    'Reply with a JSON object. In its "reasoning" field, first write out in a step by step manner your reasoning to be sure that your conclusion is correct. Then put in its "choice" field a single choice from {choices} corresponding to the correct answer.',
};

export const placeholderPattern = /\{(input|completion|ideal)\}/g;

/** What `{ideal}` becomes when the client supplied an ideal the team's config does not allow: our text, not the client's. */
export const ignoredIdealText =
  '(no reference answer: the one the client supplied was ignored; judge the submission on the task alone)';

export interface JudgeTexts {
  readonly input: string;
  readonly completion: string;
  /** Undefined when there is no ideal the judge may see. */
  readonly ideal: string | undefined;
  readonly truncated: boolean;
}

/** The untrusted texts the rubric refers to, each cut to `dataCharsMax`. */
export function judgeTexts(input: ScoreInput<LlmJudgeConfig>, ideal: string | undefined): JudgeTexts {
  const max = input.config.dataCharsMax;
  const cut = (text: string) => (text.length > max ? `${text.slice(0, max)} [truncated]` : text);
  const texts = [promptText(input.promptMessages), input.completion, ideal ?? ''];
  return {
    input: cut(texts[0] ?? ''),
    completion: cut(input.completion),
    ideal: ideal === undefined ? undefined : cut(ideal),
    truncated: texts.some((text) => text.length > max),
  };
}

export function choicesText(choices: readonly string[]): string {
  return choices.map((choice) => `"${choice}"`).join(' or ');
}

/** The judge's messages: spotlight instructions as the system message, then the rubric with spotlighted data and the answer prompt. */
export function buildJudgeMessages(config: LlmJudgeConfig, texts: JudgeTexts, spotlight: Spotlight): ChatMessage[] {
  // One pass, so a placeholder written inside a judged text is never substituted again.
  const rubric = config.promptTemplate.replace(placeholderPattern, (_match, name: 'input' | 'completion' | 'ideal') => {
    const text = texts[name];
    return name === 'ideal' && text === undefined ? ignoredIdealText : spotlight.wrap(text ?? '');
  });
  const answer = (config.useJsonSchema ? jsonAnswerPrompts : answerPrompts)[config.evalType].replace(
    '{choices}',
    choicesText(config.choices),
  );
  const messages: ChatMessage[] = [];
  if (spotlight.instructions !== '') messages.push({ role: 'system', content: spotlight.instructions });
  messages.push({ role: 'user', content: `${rubric}\n\n${answer}` });
  return messages;
}

/** response_format constraining the answer to `{ reasoning, choice }` (cot) or `{ choice }`, choice an enum of the choices. */
export function verdictResponseFormat(config: LlmJudgeConfig): ResponseFormat {
  const cot = config.evalType === 'cot_classify';
  const properties: Record<string, unknown> = {};
  if (cot) properties.reasoning = { type: 'string' };
  properties.choice = { type: 'string', enum: [...config.choices] };
  return {
    type: 'json_schema',
    jsonSchema: {
      name: 'judge_verdict',
      strict: true,
      schema: { type: 'object', properties, required: Object.keys(properties), additionalProperties: false },
    },
  };
}
