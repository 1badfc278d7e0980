import { type ChatRequest, type ChatResponse, type LlmClient } from '../llm-client';

/** What a scripted call answers: text (repeated for each of n), one text per choice, a full response, or an error to throw. */
export type ScriptedAnswer = string | readonly string[] | ChatResponse | Error;

/** A responder computes the answer from the request, like a (fake) model would. */
export type ScriptedResponder = (request: ChatRequest, callIndex: number) => ScriptedAnswer | Promise<ScriptedAnswer>;

export interface ScriptedLlm extends LlmClient {
  /** Every request received, in order. */
  readonly calls: ChatRequest[];
  /** Scripted answers not used yet (0 for a responder). */
  remaining(): number;
}

/**
 * A fake metered LLM for plugin tests. Given a list, call k gets entry k (an entry may be a
 * responder function); running out throws. Given one responder, it answers every call.
 * Usage is counted as whitespace-separated words unless the answer is a full response.
 */
export function scriptedLlm(script: readonly (ScriptedAnswer | ScriptedResponder)[] | ScriptedResponder): ScriptedLlm {
  const calls: ChatRequest[] = [];
  const queue = typeof script === 'function' ? undefined : [...script];
  return {
    calls,
    remaining: () => queue?.length ?? 0,
    async chat(request) {
      const callIndex = calls.length;
      calls.push(request);
      if (request.signal?.aborted) throw request.signal.reason;
      const step: ScriptedAnswer | ScriptedResponder | undefined =
        queue === undefined ? (script as ScriptedResponder) : queue.shift();
      if (step === undefined) {
        throw new Error(
          `scriptedLlm: no scripted answer left for call #${callIndex + 1} (model ${request.model}); script one more answer.`,
        );
      }
      const answer = typeof step === 'function' ? await (step as ScriptedResponder)(request, callIndex) : step;
      return toResponse(answer, request, callIndex);
    },
  };
}

function toResponse(answer: ScriptedAnswer, request: ChatRequest, callIndex: number): ChatResponse {
  if (answer instanceof Error) throw answer;
  if (typeof answer === 'object' && !Array.isArray(answer)) return answer as ChatResponse;
  const texts: readonly string[] =
    typeof answer === 'string' ? Array.from({ length: request.n ?? 1 }, () => answer) : (answer as readonly string[]);
  const promptTokens = request.messages.reduce((sum, message) => sum + countWords(message.content), 0);
  return {
    choices: texts.map((content) => ({ content, finishReason: 'stop' })),
    usage: { promptTokens, completionTokens: texts.reduce((sum, text) => sum + countWords(text), 0) },
    requestId: `scripted-${callIndex + 1}`,
  };
}

function countWords(text: string): number {
  return text.split(/\s+/).filter(Boolean).length;
}
