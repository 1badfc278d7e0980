import { type ChoiceState } from './choice';

/** Which OpenAI endpoint a request came through; it decides every field name on the wire. */
export type Endpoint = 'chat' | 'completion';

export interface Usage {
  prompt_tokens: number;
  total_tokens: number;
  completion_tokens: number;
}

/** vLLM's UsageInfo field order: prompt_tokens, total_tokens, completion_tokens. */
export function usageJson(promptTokens: number, completionTokens: number): string {
  return `{"prompt_tokens":${promptTokens},"total_tokens":${promptTokens + completionTokens},"completion_tokens":${completionTokens}}`;
}

/** The fixed head of every chunk of one stream, serialised once per request. */
export function chunkPrefix(endpoint: Endpoint, id: string, created: number, model: string): string {
  const object = endpoint === 'chat' ? 'chat.completion.chunk' : 'text_completion';
  return `{"id":${JSON.stringify(id)},"object":"${object}","created":${created},"model":${JSON.stringify(model)},"choices":[`;
}

/** The chat stream's opening chunk per choice: role and empty content (pydantic exclude_unset). */
export function chatRoleChoiceJson(index: number): string {
  return `{"index":${index},"delta":{"role":"assistant","content":""},"logprobs":null,"finish_reason":null}`;
}

/** One token chunk's choice; the last one of a choice carries finish_reason and stop_reason. */
export function streamChoiceJson(endpoint: Endpoint, choice: ChoiceState, delta: string): string {
  const text = JSON.stringify(delta);
  const finished = choice.finishReason !== null;
  const finish = finished ? `"${choice.finishReason}"` : 'null';
  if (endpoint === 'chat') {
    const stop = finished ? `,"stop_reason":${JSON.stringify(choice.stopReason)}` : '';
    return `{"index":${choice.index},"delta":{"content":${text}},"logprobs":null,"finish_reason":${finish}${stop}}`;
  }
  // Completion chunks are dumped with exclude_unset=False: every field, nulls included.
  return `{"index":${choice.index},"text":${text},"logprobs":null,"finish_reason":${finish},"stop_reason":${JSON.stringify(choice.stopReason)}}`;
}

/** Closes a chunk: `usage` is omitted for chat (exclude_unset) and null for completions unless given. */
export function chunkSuffix(endpoint: Endpoint, usage: string | null): string {
  if (usage !== null) return `],"usage":${usage}}`;
  return endpoint === 'chat' ? ']}' : '],"usage":null}';
}

export function sse(json: string): string {
  return `data: ${json}\n\n`;
}

export const sseDone = 'data: [DONE]\n\n';

/** The non-streaming body, with the null fields vLLM's model_dump writes. */
export function fullResponse(
  endpoint: Endpoint,
  id: string,
  created: number,
  model: string,
  choices: readonly ChoiceState[],
  usage: Usage,
): string {
  const fullUsage = { ...usage, prompt_tokens_details: null };
  if (endpoint === 'chat') {
    return JSON.stringify({
      id,
      object: 'chat.completion',
      created,
      model,
      choices: choices.map((choice) => ({
        index: choice.index,
        message: {
          role: 'assistant',
          content: choice.text,
          refusal: null,
          annotations: null,
          audio: null,
          function_call: null,
          tool_calls: [],
          reasoning_content: null,
        },
        logprobs: null,
        finish_reason: choice.finishReason,
        stop_reason: choice.stopReason,
      })),
      service_tier: null,
      system_fingerprint: null,
      usage: fullUsage,
      prompt_logprobs: null,
      prompt_token_ids: null,
      kv_transfer_params: null,
    });
  }
  return JSON.stringify({
    id,
    object: 'text_completion',
    created,
    model,
    choices: choices.map((choice) => ({
      index: choice.index,
      text: choice.text,
      logprobs: null,
      finish_reason: choice.finishReason,
      stop_reason: choice.stopReason,
      prompt_logprobs: null,
    })),
    service_tier: null,
    system_fingerprint: null,
    usage: fullUsage,
    kv_transfer_params: null,
  });
}
