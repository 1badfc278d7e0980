import { type ChatRequest, type LlmClient } from '@tokenwise/plugin-sdk';

export interface JudgeSamples {
  readonly texts: readonly string[];
  readonly usage: { readonly promptTokens: number; readonly completionTokens: number; readonly calls: number };
  readonly requestIds: readonly string[];
}

/**
 * Asks for `samples` answers with one `n` request; an upstream that returns fewer choices than asked
 * (some ignore `n`) is asked again for the rest, at most `samples` calls in all.
 */
export async function sampleJudge(llm: LlmClient, request: ChatRequest, samples: number): Promise<JudgeSamples> {
  const texts: string[] = [];
  const requestIds: string[] = [];
  let promptTokens = 0;
  let completionTokens = 0;
  let calls = 0;
  while (texts.length < samples && calls < samples) {
    const response = await llm.chat({ ...request, n: samples - texts.length });
    calls++;
    promptTokens += response.usage.promptTokens;
    completionTokens += response.usage.completionTokens;
    if (response.requestId !== undefined) requestIds.push(response.requestId);
    texts.push(...response.choices.slice(0, samples - texts.length).map((choice) => choice.content));
  }
  if (texts.length === 0) throw new Error(`The judge returned no answers in ${calls} calls.`);
  return { texts, usage: { promptTokens, completionTokens, calls }, requestIds };
}
