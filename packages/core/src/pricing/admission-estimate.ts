import { assertNonNegativeAmount } from '../amount';
import { ValidationError } from '../errors';
import { invariant } from '../invariant';
import { type CostQuote, quoteCost } from './cost';
import { type PriceList, type PriorityTier, tokensPerRequestMax } from './price-list';
import {
  type ChatTemplateOverhead,
  chatPromptTokensBound,
  completionPromptTokensBounds,
  defaultChatTemplateOverhead,
  utf8ByteLength,
} from './prompt-bound';

/** Choices (`n`, `best_of`) per request. */
export const choicesPerRequestMax = 128;

/** The team's or model's admission policy for completion length. */
export interface AdmissionPolicy {
  /** Completion tokens per choice when the client sends no max_tokens (vLLM would use the rest of the context). */
  readonly completionTokensCap: number;
  /** When true, a client's larger max_tokens is clamped to the cap instead of honoured. */
  readonly enforceCompletionTokensCap: boolean;
  readonly chatTemplate?: ChatTemplateOverhead;
}

/** The OpenAI-compatible endpoint a body was sent to: it, not the body's fields, decides what the server reads. */
export type InferenceEndpoint = 'chat' | 'completions';

export interface AdmissionEstimateInput {
  readonly priceList: PriceList;
  readonly modelId: string;
  readonly tier: PriorityTier;
  /** `/v1/chat/completions` reads `messages` (never `prompt`); `/v1/completions` reads `prompt` (never `messages`). */
  readonly endpoint: InferenceEndpoint;
  /** The parsed OpenAI-compatible body, as it will be forwarded. */
  readonly body: Readonly<Record<string, unknown>>;
  readonly policy: AdmissionPolicy;
  /** CO2e bound for this many output tokens at the modelled (unmeasured) latency; needed when carbon is priced. */
  readonly co2eMicrogramsForOutputTokens?: (outputTokens: number) => bigint;
}

export interface AdmissionEstimate {
  readonly promptTokensBound: number;
  /** max_tokens per choice that the request runs with. */
  readonly completionTokensPerChoice: number;
  /** All completion tokens the request can produce: per choice x max(n, best_of) x prompts. */
  readonly completionTokensBound: number;
  /**
   * The one completion cap the gateway forwards, as `max_tokens` (with `max_completion_tokens`
   * removed, since vLLM prefers it): always the bound per choice, so what runs is what is held.
   */
  readonly forwardedMaxTokens: number;
  /** The most the request can cost: the price of the bounds above. Hold this much. */
  readonly cost: CostQuote;
}

function optionalCount(
  body: Readonly<Record<string, unknown>>,
  field: string,
  min: number,
  max: number,
): number | undefined {
  const value = body[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) {
    throw new ValidationError(`${field} must be an integer from ${min} to ${max}, got ${JSON.stringify(value)}.`, {
      field,
    });
  }
  return value;
}

function completionTokensPerChoice(body: Readonly<Record<string, unknown>>, policy: AdmissionPolicy): number {
  invariant(
    Number.isSafeInteger(policy.completionTokensCap) && policy.completionTokensCap >= 1,
    'completionTokensCap must be a positive integer.',
  );
  // Both are checked whatever is forwarded; the smaller limit the client asked for wins.
  const completion = optionalCount(body, 'max_completion_tokens', 1, tokensPerRequestMax);
  const tokens = optionalCount(body, 'max_tokens', 1, tokensPerRequestMax);
  const asked = [completion, tokens].filter((value): value is number => value !== undefined);
  if (asked.length === 0) return policy.completionTokensCap;
  const requested = Math.min(...asked);
  return policy.enforceCompletionTokensCap ? Math.min(requested, policy.completionTokensCap) : requested;
}

/** Beam search (`use_beam_search`) keeps `n` x beam-width sequences alive: refused where it is read. */
function refuseBeamSearch(body: Readonly<Record<string, unknown>>): void {
  const beams = body.use_beam_search;
  if (beams !== undefined && beams !== null && beams !== false) {
    throw new ValidationError(
      'use_beam_search cannot be bounded before inference through the gateway: remove it (or set it to false).',
      { field: 'use_beam_search' },
    );
  }
}

/** Bytes of a completions `suffix` (inserted after each prompt by servers that support it). */
function suffixBytes(suffix: unknown): number {
  if (suffix === undefined || suffix === null) return 0;
  if (typeof suffix !== 'string') throw new ValidationError('suffix must be a string.', { field: 'suffix' });
  return utf8ByteLength(suffix);
}

/**
 * Bounds a request before it runs, so the gateway can hold its worst-case cost. Proven for
 * byte-level tokenizers: prompt tokens <= rendered bytes + template overhead, and completion
 * tokens <= max_tokens per choice. vLLM counts a chat prompt once whatever `n` is.
 */
export function estimateAdmission(input: AdmissionEstimateInput): AdmissionEstimate {
  const { body, policy } = input;
  const template = policy.chatTemplate ?? defaultChatTemplateOverhead;
  refuseBeamSearch(body);
  const promptBounds =
    input.endpoint === 'chat'
      ? [chatPromptTokensBound(body, template)]
      : completionPromptTokensBounds(body.prompt, template, suffixBytes(body.suffix));
  const promptTokensBound = promptBounds.reduce((sum, bound) => sum + bound, 0);
  const n = optionalCount(body, 'n', 1, choicesPerRequestMax) ?? 1;
  const bestOf = optionalCount(body, 'best_of', 1, choicesPerRequestMax) ?? n;
  const perChoice = completionTokensPerChoice(body, policy);
  const completionTokensBound = perChoice * Math.max(n, bestOf) * promptBounds.length;
  for (const [what, value] of [
    ['prompt', promptTokensBound],
    ['completion', completionTokensBound],
  ] as const) {
    if (value > tokensPerRequestMax) {
      throw new ValidationError(
        `The request may use up to ${value} ${what} tokens, more than the per-request limit of ${tokensPerRequestMax}; shorten it or lower max_tokens and n.`,
      );
    }
  }
  const co2eMicrograms = input.co2eMicrogramsForOutputTokens?.(completionTokensBound);
  if (co2eMicrograms !== undefined) assertNonNegativeAmount(co2eMicrograms, 'co2eMicrograms bound');
  invariant(
    input.priceList.carbonPrice === undefined || co2eMicrograms !== undefined,
    'The price list prices carbon: pass co2eMicrogramsForOutputTokens so the estimate bounds the surcharge.',
  );
  const cost = quoteCost(input.priceList, {
    modelId: input.modelId,
    tier: input.tier,
    inputTokens: promptTokensBound,
    outputTokens: completionTokensBound,
    ...(co2eMicrograms === undefined ? {} : { co2eMicrograms }),
  });
  return {
    promptTokensBound,
    completionTokensPerChoice: perChoice,
    completionTokensBound,
    forwardedMaxTokens: perChoice,
    cost,
  };
}

/** Why the metered cost of a request exceeds the estimate its hold was placed for, or undefined when it does not. */
export function costBeyondEstimate(estimate: AdmissionEstimate, actual: CostQuote): string | undefined {
  const bound = estimate.cost;
  if (
    actual.priceListVersion !== bound.priceListVersion ||
    actual.modelId !== bound.modelId ||
    actual.tier !== bound.tier
  ) {
    return `Actual cost (${actual.modelId}, ${actual.tier}, price list ${actual.priceListVersion}) is not for the estimated request (${bound.modelId}, ${bound.tier}, price list ${bound.priceListVersion}).`;
  }
  for (const [currency, amount] of Object.entries(actual.totals)) {
    const held = bound.totals[currency] ?? 0n;
    if (amount > held) {
      return `Actual cost ${amount} ${currency} exceeds the admission estimate ${held} (prompt ${actual.inputTokens}/${estimate.promptTokensBound}, completion ${actual.outputTokens}/${estimate.completionTokensBound} tokens).`;
    }
  }
  return undefined;
}

/** Asserts that the metered cost of a request never exceeds the estimate its hold was placed for. */
export function assertCostWithinEstimate(estimate: AdmissionEstimate, actual: CostQuote): void {
  const problem = costBeyondEstimate(estimate, actual);
  invariant(problem === undefined, problem ?? '');
}
