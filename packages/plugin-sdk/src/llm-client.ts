import { z } from 'zod';
import { type FetchFn, FetchTimeoutError, withTimeout } from './fetch-with-timeout';
import { type ChatMessage } from './score-input';

/** `response_format` of the OpenAI chat API: JSON constrained by a schema where the upstream supports it. */
export type ResponseFormat =
  | { readonly type: 'text' }
  | { readonly type: 'json_object' }
  | {
      readonly type: 'json_schema';
      readonly jsonSchema: {
        readonly name: string;
        readonly schema: Record<string, unknown>;
        readonly strict?: boolean;
      };
    };

export interface ChatRequest {
  readonly model: string;
  readonly messages: readonly ChatMessage[];
  readonly responseFormat?: ResponseFormat;
  /** Completions to sample from one prompt (the OpenAI `n`). */
  readonly n?: number;
  readonly maxTokens?: number;
  readonly temperature?: number;
  /** Aborts the call (runPluginSafely aborts it when the plugin's time is up). */
  readonly signal?: AbortSignal;
}

export interface ChatResponse {
  readonly choices: readonly { readonly content: string; readonly finishReason?: string }[];
  readonly usage: { readonly promptTokens: number; readonly completionTokens: number };
  /** The gateway's request id of this (metered) call, for the evidence. */
  readonly requestId?: string;
}

/** A metered OpenAI-compatible client. In production it calls the gateway with a system key, so calls are charged to a system account. */
export interface LlmClient {
  chat(request: ChatRequest): Promise<ChatResponse>;
}

/** The upstream answered with an error status or a body that is not a chat completion. */
export class LlmCallError extends Error {
  override readonly name = 'LlmCallError';
  readonly code = 'LLM_CALL' as const;
  constructor(
    message: string,
    readonly status: number | undefined,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export interface GatewayLlmClientOptions {
  /** The gateway's base URL, e.g. http://127.0.0.1:8080 (a trailing /v1 is accepted). */
  readonly baseUrl: string;
  /**
   * The key the gateway charges: a system key (tw_...) such as an org's judge key, or a function
   * that returns one when a call starts (keys minted on demand and renewed before they expire).
   */
  readonly apiKey: string | (() => Promise<string>);
  /** Called when the gateway refuses the key (401), so a minted key that was revoked is replaced. */
  readonly onUnauthorized?: () => void;
  readonly timeoutMs: number;
  readonly fetch?: FetchFn;
  /** Extra headers on every call, e.g. x-tokenwise-* tags. */
  readonly headers?: Readonly<Record<string, string>>;
}

/** Chat answers above this are refused: a judge verdict is small. */
export const chatResponseCharsMax = 4 * 1024 * 1024;
export const chatChoicesMax = 16;

const chatCompletionSchema = z.object({
  id: z.string().optional(),
  choices: z
    .array(z.object({ message: z.object({ content: z.string().nullish() }), finish_reason: z.string().nullish() }))
    .max(chatChoicesMax),
  usage: z.object({ prompt_tokens: z.number().int().nonnegative(), completion_tokens: z.number().int().nonnegative() }),
});

/** Speaks the OpenAI chat API to the gateway over fetch, each call bounded by `timeoutMs`. */
export function createGatewayLlmClient(options: GatewayLlmClientOptions): LlmClient {
  const url = chatCompletionsUrl(options.baseUrl);
  const timedFetch = withTimeout(options.fetch ?? globalThis.fetch, options.timeoutMs);
  return {
    async chat(request) {
      const apiKey = typeof options.apiKey === 'string' ? options.apiKey : await options.apiKey();
      const response = await post(timedFetch, url, { ...options, apiKey }, request);
      if (response.status === 401) options.onUnauthorized?.();
      const text = await response.text();
      if (text.length > chatResponseCharsMax)
        throw new LlmCallError(`The chat answer is longer than ${chatResponseCharsMax} characters.`, response.status);
      if (!response.ok)
        throw new LlmCallError(
          `Chat completion failed with HTTP ${response.status}: ${errorMessage(text)}`,
          response.status,
        );
      return toChatResponse(text, response);
    },
  };
}

async function post(
  timedFetch: FetchFn,
  url: string,
  options: GatewayLlmClientOptions & { apiKey: string },
  request: ChatRequest,
): Promise<Response> {
  try {
    return await timedFetch(url, {
      method: 'POST',
      headers: { ...options.headers, 'content-type': 'application/json', authorization: `Bearer ${options.apiKey}` },
      body: JSON.stringify(toWireRequest(request)),
      signal: request.signal ?? null,
    });
  } catch (error) {
    if (error instanceof FetchTimeoutError)
      throw new LlmCallError(`Chat completion timed out: ${error.message}`, undefined, { cause: error });
    throw new LlmCallError(`Chat completion request failed: ${(error as Error).message}`, undefined, { cause: error });
  }
}

function chatCompletionsUrl(baseUrl: string): string {
  const base = new URL(baseUrl);
  const path = base.pathname.replace(/\/+$/, '').replace(/\/v1$/, '');
  return `${base.origin}${path}/v1/chat/completions`;
}

function toWireRequest(request: ChatRequest): Record<string, unknown> {
  const body: Record<string, unknown> = {
    model: request.model,
    messages: request.messages.map(({ role, content }) => ({ role, content })),
    stream: false,
  };
  if (request.n !== undefined) body.n = request.n;
  if (request.maxTokens !== undefined) body.max_tokens = request.maxTokens;
  if (request.temperature !== undefined) body.temperature = request.temperature;
  const format = request.responseFormat;
  if (format !== undefined) {
    body.response_format =
      format.type === 'json_schema' ? { type: 'json_schema', json_schema: format.jsonSchema } : { type: format.type };
  }
  return body;
}

function toChatResponse(text: string, response: Response): ChatResponse {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new LlmCallError('The chat answer is not JSON.', response.status, { cause: error });
  }
  const parsed = chatCompletionSchema.safeParse(json);
  if (!parsed.success)
    throw new LlmCallError(
      `The chat answer is not a chat completion: ${parsed.error.issues[0]?.message ?? 'bad shape'}.`,
      response.status,
    );
  const requestId = response.headers.get('x-request-id') ?? parsed.data.id;
  return {
    choices: parsed.data.choices.map((choice) => ({
      content: choice.message.content ?? '',
      ...(choice.finish_reason ? { finishReason: choice.finish_reason } : {}),
    })),
    usage: { promptTokens: parsed.data.usage.prompt_tokens, completionTokens: parsed.data.usage.completion_tokens },
    ...(requestId === undefined ? {} : { requestId }),
  };
}

function errorMessage(text: string): string {
  try {
    const body = JSON.parse(text) as { error?: { message?: unknown }; message?: unknown; detail?: unknown };
    const message = body.error?.message ?? body.message ?? body.detail;
    if (typeof message === 'string') return message.slice(0, 500);
  } catch {
    // Not JSON: fall through to the raw text.
  }
  return text.slice(0, 500) || '(empty body)';
}
