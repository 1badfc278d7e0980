import { assertNonNegativeAmount } from '../amount';
import { ValidationError } from '../errors';
import { invariant } from '../invariant';
import { type CostQuote, quoteCost } from './cost';
import { type PriceList, type PriorityTier, tokensPerRequestMax } from './price-list';
import { type ChatTemplateOverhead, chatPromptTokensBound, completionPromptTokensBounds, defaultChatTemplateOverhead } from './prompt-bound';

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

export interface AdmissionEstimateInput {
  readonly priceList: PriceList;
  readonly modelId: string;
  readonly tier: PriorityTier;
  /** The parsed OpenAI-compatible body: chat (`messages`) or completions (`prompt`). */
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
   * When defined, the gateway must forward this as `max_tokens` (and drop `max_completion_tokens`):
   * the client omitted a limit, or asked for more than an enforced cap.
   */
  readonly forwardedMaxTokens: number | undefined;
  /** The most the request can cost: the price of the bounds above. Hold this much. */
  readonly cost: CostQuote;
}

function optionalCount(body: Readonly<Record<string, unknown>>, field: string, min: number, max: number): number | undefined {
  const value = body[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) {
    throw new ValidationError(`${field} must be an integer from ${min} to ${max}, got ${JSON.stringify(value)}.`, { field });
  }
  return value;
}

function completionTokensPerChoice(body: Readonly<Record<string, unknown>>, policy: AdmissionPolicy): { perChoice: number; forwarded: number | undefined } {
  invariant(Number.isSafeInteger(policy.completionTokensCap) && policy.completionTokensCap >= 1, 'completionTokensCap must be a positive integer.');
  // Zero is refused: vLLM reads `max_completion_tokens or max_tokens`, so 0 would fall through to max_tokens.
  const requested = optionalCount(body, 'max_completion_tokens', 1, tokensPerRequestMax) ?? optionalCount(body, 'max_tokens', 1, tokensPerRequestMax);
  if (requested === undefined) return { perChoice: policy.completionTokensCap, forwarded: policy.completionTokensCap };
  if (policy.enforceCompletionTokensCap && requested > policy.completionTokensCap) {
    return { perChoice: policy.completionTokensCap, forwarded: policy.completionTokensCap };
  }
  return { perChoice: requested, forwarded: undefined };
}

/**
 * Bounds a request before it runs, so the gateway can hold its worst-case cost. Proven for
 * byte-level tokenizers: prompt tokens <= rendered bytes + template overhead, and completion
 * tokens <= max_tokens per choice. vLLM counts a chat prompt once whatever `n` is.
 */
export function estimateAdmission(input: AdmissionEstimateInput): AdmissionEstimate {
  const { body, policy } = input;
  const template = policy.chatTemplate ?? defaultChatTemplateOverhead;
  const isChat = body.messages !== undefined;
  if (!isChat && body.prompt === undefined) throw new ValidationError('The body needs `messages` (chat) or `prompt` (completions).');
  const promptBounds = isChat ? [chatPromptTokensBound(body, template)] : completionPromptTokensBounds(body.prompt, template);
  const promptTokensBound = promptBounds.reduce((sum, bound) => sum + bound, 0);
  const n = optionalCount(body, 'n', 1, choicesPerRequestMax) ?? 1;
  const bestOf = optionalCount(body, 'best_of', 1, choicesPerRequestMax) ?? n;
  const { perChoice, forwarded } = completionTokensPerChoice(body, policy);
  const completionTokensBound = perChoice * Math.max(n, bestOf) * promptBounds.length;
  for (const [what, value] of [['prompt', promptTokensBound], ['completion', completionTokensBound]] as const) {
    if (value > tokensPerRequestMax) {
      throw new ValidationError(`The request may use up to ${value} ${what} tokens, more than the per-request limit of ${tokensPerRequestMax}; shorten it or lower max_tokens and n.`);
    }
  }
  const co2eMicrograms = input.co2eMicrogramsForOutputTokens?.(completionTokensBound);
  if (co2eMicrograms !== undefined) assertNonNegativeAmount(co2eMicrograms, 'co2eMicrograms bound');
  invariant(input.priceList.carbonPrice === undefined || co2eMicrograms !== undefined, 'The price list prices carbon: pass co2eMicrogramsForOutputTokens so the estimate bounds the surcharge.');
  const cost = quoteCost(input.priceList, {
    modelId: input.modelId,
    tier: input.tier,
    inputTokens: promptTokensBound,
    outputTokens: completionTokensBound,
    ...(co2eMicrograms === undefined ? {} : { co2eMicrograms }),
  });
  return { promptTokensBound, completionTokensPerChoice: perChoice, completionTokensBound, forwardedMaxTokens: forwarded, cost };
}

/** Asserts that the metered cost of a request never exceeds the estimate its hold was placed for. */
export function assertCostWithinEstimate(estimate: AdmissionEstimate, actual: CostQuote): void {
  const bound = estimate.cost;
  invariant(
    actual.priceListVersion === bound.priceListVersion && actual.modelId === bound.modelId && actual.tier === bound.tier,
    `Actual cost (${actual.modelId}, ${actual.tier}, price list ${actual.priceListVersion}) is not for the estimated request (${bound.modelId}, ${bound.tier}, price list ${bound.priceListVersion}).`,
  );
  for (const [currency, amount] of Object.entries(actual.totals)) {
    const held = bound.totals[currency] ?? 0n;
    invariant(amount <= held, `Actual cost ${amount} ${currency} exceeds the admission estimate ${held} (prompt ${actual.inputTokens}/${estimate.promptTokensBound}, completion ${actual.outputTokens}/${estimate.completionTokensBound} tokens).`);
  }
}
