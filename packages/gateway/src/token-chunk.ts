import type { InferenceKind } from './relay-common';

/** A JSON string literal, escapes included (no raw control characters, as JSON requires). */
const stringLiteral = String.raw`"[^"\\\x00-\x1f]*(?:\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4})[^"\\\x00-\x1f]*)*"`;
/** A JSON string without escapes (ids and model names are). */
const plainString = String.raw`"[^"\\\x00-\x1f]*"`;
/** A JSON non-negative integer (no leading zeros, as JSON requires), small enough to be safe. */
const integer = String.raw`(?:0|[1-9]\d{0,14})`;
const head = (object: string) =>
  String.raw`^\{"id":${plainString},"object":"${object}","created":${integer},"model":${plainString},"choices":\[`;

/**
 * The cumulative usage vLLM puts on every chunk when the gateway asks for `continuous_usage_stats`
 * (it always does): UsageInfo's fields in its order, `prompt_tokens_details` where it is dumped.
 */
const usageSuffix = String.raw`,"usage":\{"prompt_tokens":(${integer}),"total_tokens":${integer},"completion_tokens":(${integer})(?:,"prompt_tokens_details":null)?\}`;

/**
 * The one chunk shape that is most of every vLLM stream: a single choice's token, not finished.
 * Chat: `{"index":0,"delta":{"content":"…"},"logprobs":null,"finish_reason":null}`, then the
 * continuous usage or nothing; completions carry `"text"` and `"stop_reason":null`, then the
 * continuous usage or `"usage":null` (every field, as vLLM dumps them).
 */
const tokenChunkShapes: Record<InferenceKind, RegExp> = {
  chat: new RegExp(
    `${head(String.raw`chat\.completion\.chunk`)}\\{"index":(${integer}),"delta":\\{"content":(${stringLiteral})\\},"logprobs":null,"finish_reason":null\\}\\](${usageSuffix})?\\}$`,
  ),
  completions: new RegExp(
    `${head('text_completion')}\\{"index":(${integer}),"text":(${stringLiteral}),"logprobs":null,"finish_reason":null,"stop_reason":null\\}\\](?:,"usage":null|(${usageSuffix}))\\}$`,
  ),
};

export interface TokenChunk {
  /** The choice's index. */
  index: number;
  /** The token's text (`delta.content` for chat, `text` for completions). */
  content: string;
  /** The continuous usage's prompt and (cumulative) completion tokens, when the chunk carries usage. */
  promptTokens: number | undefined;
  completionTokens: number | undefined;
  /** Where the usage field (`,"usage":{…}`, the chunk's last) starts, or -1 without usage. */
  usageAt: number;
}

/**
 * Reads a stream chunk of that shape without parsing it: the relay meets one per token, and a
 * JSON.parse of each cost about 1.7 µs and six objects. Any other chunk (the role chunk, the last
 * one of a choice, the final usage, several choices, other fields or order, anything malformed)
 * gives undefined and is parsed as before; what this returns is exactly what JSON.parse would give.
 */
export function tokenChunk(data: string, kind: InferenceKind): TokenChunk | undefined {
  const match = tokenChunkShapes[kind].exec(data);
  if (match === null) return undefined;
  const literal = match[2] as string;
  const usage = match[3];
  return {
    index: Number(match[1]),
    content: literal.includes('\\') ? (JSON.parse(literal) as string) : literal.slice(1, -1),
    promptTokens: usage === undefined ? undefined : Number(match[4]),
    completionTokens: usage === undefined ? undefined : Number(match[5]),
    usageAt: usage === undefined ? -1 : data.length - 1 - usage.length,
  };
}

/**
 * The chunk without its usage field (at `at`, its last field, a flat object), as vLLM writes a
 * chunk when usage was not asked for: chat drops the field, completions carry `"usage":null`.
 */
export function usageCut(data: string, at: number, kind: InferenceKind): string {
  return kind === 'chat' ? `${data.slice(0, at)}}` : `${data.slice(0, at)},"usage":null}`;
}
