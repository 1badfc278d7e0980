import { type EvalType } from './config';

/** openai/evals' marker for an answer that names no choice; it scores as the lowest choice. */
export const INVALID_CHOICE = '__invalid__';

// Python's string.punctuation, which evals strips from each answer line before matching.
const punctuation = /[!"#$%&'()*+,\-./:;<=>?@[\\\]^_`{|}~]/g;

/**
 * A port of openai/evals `classify_utils.get_choice` with its default match_fn `starts_or_endswith`:
 * split the stripped answer into lines (reversed for cot_classify, so the last line is tried first
 * and the first line last), strip each line and drop its punctuation, skip empty lines, and return
 * the first choice (in configured order) that the line starts or ends with; else `__invalid__`.
 */
export function parseChoiceText(text: string, evalType: EvalType, choices: readonly string[]): string {
  const lines = text.trim().split('\n');
  if (evalType === 'cot_classify') lines.reverse();
  for (const raw of lines) {
    const line = raw.trim().replace(punctuation, '');
    if (line === '') continue;
    const choice = choices.find((candidate) => line.startsWith(candidate) || line.endsWith(candidate));
    if (choice !== undefined) return choice;
  }
  return INVALID_CHOICE;
}

export interface JsonVerdict {
  readonly choice: string;
  readonly reasoning: string | undefined;
}

/** Reads a json_schema answer `{ reasoning?, choice }`; anything else (bad JSON, unknown choice) is `__invalid__`. */
export function parseChoiceJson(text: string, choices: readonly string[]): JsonVerdict {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { choice: INVALID_CHOICE, reasoning: undefined };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    return { choice: INVALID_CHOICE, reasoning: undefined };
  const { choice, reasoning } = value as { choice?: unknown; reasoning?: unknown };
  return {
    choice: typeof choice === 'string' && choices.includes(choice) ? choice : INVALID_CHOICE,
    reasoning: typeof reasoning === 'string' ? reasoning : undefined,
  };
}
