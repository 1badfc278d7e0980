import { badRequest } from './openai-error';

/**
 * What the gateway forwards of a client's body, per endpoint. The hold is computed from exactly the
 * fields the model server reads, so the forwarded body carries nothing else: OpenAI's documented
 * fields of that endpoint and vLLM's documented extras (sampling, structured outputs, ...). A field
 * that would defeat the bound is refused with a 400 naming it; any other field (new OpenAI fields
 * agents send before a server knows them, the other endpoint's fields) is dropped and named in
 * the `x-tokenwise-dropped-fields` response header, so clients keep working.
 */

export type Endpoint = 'chat' | 'completions';

/** Response header naming the body fields the gateway accepted and did not forward. */
export const droppedFieldsHeaderName = 'x-tokenwise-dropped-fields';

/** Sampling, limits and output controls both endpoints read (OpenAI's and vLLM's SamplingParams extras). */
const sharedFields = [
  'model',
  'stream',
  'n',
  'best_of',
  'temperature',
  'top_p',
  'top_k',
  'min_p',
  'seed',
  'stop',
  'stop_token_ids',
  'presence_penalty',
  'frequency_penalty',
  'repetition_penalty',
  'length_penalty',
  'logit_bias',
  'logprobs',
  'prompt_logprobs',
  'ignore_eos',
  'min_tokens',
  'skip_special_tokens',
  'spaces_between_special_tokens',
  'include_stop_str_in_output',
  'truncate_prompt_tokens',
  'allowed_token_ids',
  'bad_words',
  'add_special_tokens',
  'user',
  'echo',
  'response_format',
  'structured_outputs',
  'guided_json',
  'guided_regex',
  'guided_choice',
  'guided_grammar',
  'guided_decoding_backend',
  'guided_whitespace_pattern',
  'structural_tag',
  'return_tokens_as_token_ids',
  'return_token_ids',
  'cache_salt',
  'use_beam_search',
] as const;

const chatFields = [
  'messages',
  'tools',
  'tool_choice',
  'parallel_tool_calls',
  'functions',
  'function_call',
  'top_logprobs',
  'reasoning_effort',
  'include_reasoning',
  'documents',
  'chat_template_kwargs',
  'add_generation_prompt',
  'continue_final_message',
] as const;

const completionsFields = ['prompt', 'suffix'] as const;

/** Fields the gateway reads and writes itself: never forwarded as sent, never reported as dropped. */
const gatewayFields = [
  'max_tokens',
  'max_completion_tokens',
  'stream_options',
  'priority',
  'tokenwise_priority',
] as const;

/** Fields whose effect no bound before inference can foresee: refused, with what to do instead. */
export const refusedFields: Readonly<Record<string, string>> = {
  chat_template: "a client-supplied template can render any amount of text; use the model's own template",
  prompt_embeds: 'embeddings cannot be counted before inference; send text or token ids as `prompt`',
  logits_processors: 'custom logits processors run arbitrary server code; remove the field',
  vllm_xargs: 'extra server arguments are not forwarded; remove the field',
  kv_transfer_params: 'KV-cache transfer parameters are for the serving cluster only; remove the field',
  use_beam_search: 'beam search keeps many sequences alive per choice; remove it or set it to false',
};

/** Dropped fields named in the response header at most; the rest are counted as "+N more". */
export const droppedFieldsNamedMax = 16;
const headerSafeName = /^[A-Za-z0-9_.-]{1,64}$/;

const forwardedBy: Record<Endpoint, ReadonlySet<string>> = {
  chat: new Set<string>([...sharedFields, ...chatFields]),
  completions: new Set<string>([...sharedFields, ...completionsFields]),
};
const gatewayOwned: ReadonlySet<string> = new Set(gatewayFields);

export interface ShapedBody {
  /** The client's fields that the endpoint's server reads (gateway fields still in, for the estimate). */
  body: Record<string, unknown>;
  /** Field names left out, as sent (unsafe names are reported as `?`). */
  dropped: string[];
}

/** Splits a client body into what is forwarded and what is dropped; refuses what defeats the bound. */
export function shapeBody(endpoint: Endpoint, body: Record<string, unknown>): ShapedBody {
  const forwarded = forwardedBy[endpoint];
  let dropped: string[] | undefined;
  let kept: KeptFields | undefined;
  for (const key of Object.keys(body)) {
    const value = body[key];
    const why = refusedFields[key];
    if (
      why !== undefined &&
      Object.hasOwn(refusedFields, key) &&
      value !== undefined &&
      value !== null &&
      value !== false
    ) {
      throw badRequest(`\`${key}\` is not accepted through the gateway: ${why}.`, key);
    }
    if (forwarded.has(key) || gatewayOwned.has(key)) {
      kept?.set(key, value);
      continue;
    }
    // First dropped field: copy what came before it; later kept fields go in as they come.
    if (kept === undefined) {
      kept = new KeptFields();
      for (const earlier of Object.keys(body)) {
        if (earlier === key) break;
        kept.set(earlier, body[earlier]);
      }
    }
    (dropped ??= []).push(key);
  }
  return { body: kept === undefined ? body : kept.record, dropped: dropped ?? [] };
}

/** Accumulates kept fields without prototype keys ("__proto__" stays a plain key). */
class KeptFields {
  readonly record: Record<string, unknown> = {};
  set(key: string, value: unknown): void {
    Object.defineProperty(this.record, key, { value, enumerable: true, writable: true, configurable: true });
  }
}

/** The `x-tokenwise-dropped-fields` header value: safe names, bounded. */
export function droppedFieldsHeader(dropped: readonly string[]): string {
  const named = dropped.slice(0, droppedFieldsNamedMax).map((name) => (headerSafeName.test(name) ? name : '?'));
  const more = dropped.length - named.length;
  return more > 0 ? `${named.join(',')},+${more} more` : named.join(',');
}

/** Fields with a metric label of their own; any other dropped name is counted as `other` (client names never become labels). */
export const namedDroppedFields: ReadonlySet<string> = new Set([
  'store',
  'metadata',
  'service_tier',
  'prediction',
  'modalities',
  'verbosity',
  'prompt_cache_key',
  'safety_identifier',
  'audio',
  'web_search_options',
  'request_id',
  'mm_processor_kwargs',
  'messages',
  'prompt',
  'tools',
  'suffix',
]);
