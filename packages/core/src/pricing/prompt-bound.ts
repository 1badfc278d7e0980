import { ValidationError } from '../errors';
import { invariant } from '../invariant';

/**
 * An upper bound on the prompt tokens of a request, without a tokenizer round trip. A byte-level
 * BPE token (and a SentencePiece piece with byte fallback) covers at least one byte of UTF-8, and a
 * special token spelled out in text covers many, so tokens <= bytes for any text. What the chat
 * template adds around the text is not in the body, so it is bounded by configured overheads.
 */
export interface ChatTemplateOverhead {
  /** Tokens the template adds once: BOS, default system text (dates, preambles), generation prompt. */
  readonly fixedTokens: number;
  /** Tokens around each message: role header, separators, end-of-turn, a dummy-prefix piece per part. */
  readonly perMessageTokens: number;
  /** Tokens around each tool definition the template renders. */
  readonly perToolTokens: number;
  /** JSON the template renders is counted as pretty-printed with this indent, at least the template's own. */
  readonly jsonIndentSpaces: number;
}

/** Generous for the templates of Llama 3.x, Qwen 2.5/3, Mistral and Gemma; override per model. */
export const defaultChatTemplateOverhead: ChatTemplateOverhead = {
  fixedTokens: 128,
  perMessageTokens: 16,
  perToolTokens: 32,
  jsonIndentSpaces: 4,
};

/** Body fields besides messages that chat templates (or the server's structured-output prompt) render into the prompt. */
const renderedRequestFields = ['tools', 'functions', 'documents', 'chat_template_kwargs', 'response_format'] as const;
/** `chat_template_kwargs`: a flat object of scalars, at most this many bytes of JSON. */
export const chatTemplateKwargsBytesMax = 1_024;
/** Messages in one request. */
export const messagesPerRequestMax = 10_000;
/** JSON.stringify accepts at most 10 spaces of indent. */
const jsonIndentSpacesMax = 10;

/** UTF-8 length of a JavaScript string, as TextEncoder would encode it (lone surrogates become U+FFFD). */
export function utf8ByteLength(text: string): number {
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    if (unit < 0x80) bytes += 1;
    else if (unit < 0x800) bytes += 2;
    else if (unit >= 0xd800 && unit <= 0xdbff && i + 1 < text.length) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        bytes += 4;
        i++;
      } else bytes += 3;
    } else bytes += 3;
  }
  return bytes;
}

function countNumbers(value: unknown): number {
  if (typeof value === 'number') return 1;
  if (value === null || typeof value !== 'object') return 0;
  let count = 0;
  for (const item of Array.isArray(value) ? value : Object.values(value)) count += countNumbers(item);
  return count;
}

/**
 * Bytes of `value` as any template would render it as JSON: pretty-printed at `indent` or less,
 * with or without ASCII escaping (every non-ASCII UTF-16 unit and every HTML-escaped character
 * counted as a 6-byte \uXXXX escape), and with Python's float spelling ("1.0", "1e-07": 2 bytes
 * more per number at most).
 */
export function jsonBytesBound(value: unknown, indentSpaces: number): number {
  invariant(
    Number.isInteger(indentSpaces) && indentSpaces >= 0 && indentSpaces <= jsonIndentSpacesMax,
    `jsonIndentSpaces must be 0..${jsonIndentSpacesMax}.`,
  );
  const text = JSON.stringify(value, null, indentSpaces);
  if (text === undefined) return 0;
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    bytes += unit >= 0x80 || unit === 0x3c || unit === 0x3e || unit === 0x26 || unit === 0x27 ? 6 : 1;
  }
  // Pretty-printing at a larger indent is never shorter, so compact and ", "/": " forms are covered too.
  return bytes + 2 * countNumbers(value);
}

function contentBytes(content: unknown, where: string): number {
  if (content === null || content === undefined) return 0;
  if (typeof content === 'string') return utf8ByteLength(content);
  if (!Array.isArray(content))
    throw new ValidationError(`${where}.content must be a string or an array of text parts.`);
  let bytes = 0;
  content.forEach((part: unknown, index) => {
    const record = part as { type?: unknown; text?: unknown } | null;
    if (record === null || typeof record !== 'object' || record.type !== 'text' || typeof record.text !== 'string') {
      throw new ValidationError(
        `${where}.content[${index}] must be {"type":"text","text":"..."}: images, audio and files cannot be bounded before inference, so send text only.`,
      );
    }
    // One more per part: a SentencePiece dummy-prefix piece or a separator the template puts between parts.
    bytes += utf8ByteLength(record.text) + 1;
  });
  return bytes;
}

function toolCallsBytes(toolCalls: unknown, indent: number): number {
  let bytes = jsonBytesBound(toolCalls, indent);
  if (!Array.isArray(toolCalls)) return bytes;
  // Some servers parse `arguments` and let the template dump it again, possibly longer than sent.
  for (const call of toolCalls as Array<{ function?: { arguments?: unknown } } | null>) {
    const args = call?.function?.arguments;
    if (typeof args !== 'string') continue;
    try {
      bytes += jsonBytesBound(JSON.parse(args) as unknown, indent);
    } catch {
      // Not JSON: the template can only render it as the string already counted.
    }
  }
  return bytes;
}

function messageBytes(message: unknown, where: string, indent: number): number {
  if (message === null || typeof message !== 'object' || Array.isArray(message)) {
    throw new ValidationError(`${where} must be an object with a role and content.`);
  }
  let bytes = 0;
  for (const [key, value] of Object.entries(message)) {
    if (key === 'content') bytes += contentBytes(value, where);
    else if (key === 'tool_calls') bytes += toolCallsBytes(value, indent);
    else if (typeof value === 'string') bytes += utf8ByteLength(value);
    else bytes += jsonBytesBound(value, indent);
  }
  return bytes;
}

/** Upper bound on prompt tokens of a chat completions body: every message field, tools and template overhead. */
export function chatPromptTokensBound(body: Readonly<Record<string, unknown>>, overhead: ChatTemplateOverhead): number {
  if (body.chat_template !== undefined && body.chat_template !== null) {
    throw new ValidationError(
      'chat_template cannot be overridden through the gateway: its output cannot be bounded before inference. Remove the field.',
    );
  }
  checkChatTemplateKwargs(body.chat_template_kwargs);
  const messages = body.messages;
  if (!Array.isArray(messages) || messages.length === 0 || messages.length > messagesPerRequestMax) {
    throw new ValidationError(`messages must be an array of 1 to ${messagesPerRequestMax} messages.`);
  }
  let tokens = overhead.fixedTokens + overhead.perMessageTokens * messages.length;
  messages.forEach((message: unknown, index) => {
    tokens += messageBytes(message, `messages[${index}]`, overhead.jsonIndentSpaces);
  });
  for (const field of renderedRequestFields) {
    const value = body[field];
    if (value === undefined || value === null) continue;
    tokens += jsonBytesBound(value, overhead.jsonIndentSpaces);
    if (Array.isArray(value)) tokens += overhead.perToolTokens * value.length;
  }
  return tokens;
}

/**
 * Template switches (`enable_thinking`, `reasoning_effort`, ...) are scalars; an object or a long
 * string could carry a template's worth of text that no bound foresees.
 */
function checkChatTemplateKwargs(kwargs: unknown): void {
  if (kwargs === undefined || kwargs === null) return;
  const fix = `chat_template_kwargs must be a flat object of strings, numbers and booleans, at most ${chatTemplateKwargsBytesMax} bytes of JSON`;
  if (typeof kwargs !== 'object' || Array.isArray(kwargs))
    throw new ValidationError(`${fix}.`, { field: 'chat_template_kwargs' });
  for (const [key, value] of Object.entries(kwargs)) {
    if (value !== null && typeof value === 'object')
      throw new ValidationError(`${fix}; "${key.slice(0, 64)}" is not a scalar.`, { field: 'chat_template_kwargs' });
  }
  if (utf8ByteLength(JSON.stringify(kwargs)) > chatTemplateKwargsBytesMax)
    throw new ValidationError(`${fix}.`, { field: 'chat_template_kwargs' });
}

/** The prompts of a completions body, one bound each: text by bytes (plus the suffix), token ids by count. */
export function completionPromptTokensBounds(
  prompt: unknown,
  overhead: ChatTemplateOverhead,
  suffixBytes = 0,
): number[] {
  const isTokenIds = (value: unknown): value is number[] =>
    Array.isArray(value) && value.length > 0 && value.every((id) => Number.isSafeInteger(id) && (id as number) >= 0);
  // Text prompts get the fixed overhead for the BOS and other special tokens the tokenizer adds.
  const extra = suffixBytes > 0 ? suffixBytes + overhead.fixedTokens : 0;
  if (typeof prompt === 'string') return [utf8ByteLength(prompt) + overhead.fixedTokens + extra];
  if (isTokenIds(prompt)) return [prompt.length + extra];
  if (Array.isArray(prompt) && prompt.length > 0 && prompt.length <= messagesPerRequestMax) {
    if (prompt.every((item) => typeof item === 'string'))
      return prompt.map((text: string) => utf8ByteLength(text) + overhead.fixedTokens + extra);
    if (prompt.every(isTokenIds)) return prompt.map((ids: number[]) => ids.length + extra);
  }
  throw new ValidationError(
    `prompt must be a string, an array of 1 to ${messagesPerRequestMax} strings, an array of token ids, or an array of token-id arrays.`,
  );
}
