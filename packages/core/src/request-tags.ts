/**
 * The two request tags that link a request to outside evidence: the client's word, validated
 * here, proving nothing alone (the evidence plugins check who made the request and when).
 *
 * - `x-tokenwise-session: <sessionId>`: the coding session an IDE agent runs under; its commits
 *   carry `Tokenwise-Session: <sessionId>`.
 * - `x-tokenwise-experiment: <experimentKey>:<variantKey>`: the A/B variant the output served.
 */
export const sessionHeader = 'x-tokenwise-session';
export const experimentHeader = 'x-tokenwise-experiment';

/** Letters, digits, `.`, `_`, `-`; starting with a letter or digit. */
export const requestTagKeyPattern = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
export const sessionIdLengthMax = 128;
export const experimentKeyLengthMax = 64;
export const variantKeyLengthMax = 64;

export type TagParse<T> = { ok: true; value: T } | { ok: false; message: string };

function keyProblem(value: string, what: string, lengthMax: number): string | undefined {
  if (value.length === 0) return `${what} is empty`;
  if (value.length > lengthMax) return `${what} is ${value.length} characters; at most ${lengthMax}`;
  if (!requestTagKeyPattern.test(value))
    return `${what} "${value.slice(0, 80)}" may only hold letters, digits, '.', '_' and '-', starting with a letter or digit`;
  return undefined;
}

/** A session id from `x-tokenwise-session`. */
export function parseSessionTag(raw: string): TagParse<string> {
  const problem = keyProblem(raw, 'the session id', sessionIdLengthMax);
  if (problem !== undefined) return { ok: false, message: `${sessionHeader}: ${problem}.` };
  return { ok: true, value: raw };
}

/** `<experimentKey>:<variantKey>` from `x-tokenwise-experiment`. */
export function parseExperimentTag(raw: string): TagParse<{ experimentKey: string; variantKey: string }> {
  const parts = raw.split(':');
  if (parts.length !== 2)
    return {
      ok: false,
      message: `${experimentHeader}: expected <experimentKey>:<variantKey> with exactly one ':', e.g. checkout-button:blue.`,
    };
  const [experimentKey, variantKey] = parts as [string, string];
  const problem =
    keyProblem(experimentKey, 'the experiment key', experimentKeyLengthMax) ??
    keyProblem(variantKey, 'the variant key', variantKeyLengthMax);
  if (problem !== undefined) return { ok: false, message: `${experimentHeader}: ${problem}.` };
  return { ok: true, value: { experimentKey, variantKey } };
}
