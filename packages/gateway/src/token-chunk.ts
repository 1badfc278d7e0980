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
 * The one chunk shape that is most of every vLLM stream: a single choice's token, not finished,
 * without usage. Chat: `{"index":0,"delta":{"content":"…"},"logprobs":null,"finish_reason":null}`;
 * completions carry `"text"`, `"stop_reason":null` and `"usage":null` (every field, as vLLM dumps them).
 */
const tokenChunkShapes: Record<InferenceKind, RegExp> = {
  chat: new RegExp(
    `${head(String.raw`chat\.completion\.chunk`)}\\{"index":(${integer}),"delta":\\{"content":(${stringLiteral})\\},"logprobs":null,"finish_reason":null\\}\\]\\}$`,
  ),
  completions: new RegExp(
    `${head('text_completion')}\\{"index":(${integer}),"text":(${stringLiteral}),"logprobs":null,"finish_reason":null,"stop_reason":null\\}\\],"usage":null\\}$`,
  ),
};

export interface TokenChunk {
  /** The choice's index. */
  index: number;
  /** The token's text (`delta.content` for chat, `text` for completions). */
  content: string;
}

/**
 * Reads a stream chunk of that shape without parsing it: the relay meets one per token, and a
 * JSON.parse of each cost about 1 µs and four objects. Any other chunk (the role chunk, the last
 * one of a choice, usage, several choices, other fields or order, anything malformed) gives
 * undefined and is parsed as before; what this returns is exactly what JSON.parse would give.
 */
export function tokenChunk(data: string, kind: InferenceKind): TokenChunk | undefined {
  const match = tokenChunkShapes[kind].exec(data);
  if (match === null) return undefined;
  const literal = match[2] as string;
  return {
    index: Number(match[1]),
    content: literal.includes('\\') ? (JSON.parse(literal) as string) : literal.slice(1, -1),
  };
}
