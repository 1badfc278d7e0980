import { type ServerResponse } from 'node:http';
import { type EngineJob, type EngineTicket } from './engine';
import { type RequestFaults } from './faults';
import { type GenerationPlan } from './plan';
import {
  chatRoleChoiceJson,
  chunkPrefix,
  chunkSuffix,
  fullResponse,
  sse,
  sseDone,
  streamChoiceJson,
  usageJson,
} from './wire';

/** One accepted request: the engine drives it, it writes vLLM's wire format to the response. */
export class GenerationJob implements EngineJob {
  readonly seqs: number;
  readonly priority: number;
  readonly promptTokens: number;
  finishedReason: 'stop' | 'length' | null = null;
  ticket: EngineTicket | undefined;
  private readonly prefix: string;
  private readonly created = Math.floor(Date.now() / 1000);
  private generated = 0;
  private stalled = false;

  constructor(
    private readonly plan: GenerationPlan,
    private readonly id: string,
    private readonly res: ServerResponse,
    private readonly faults: RequestFaults,
  ) {
    this.seqs = plan.choices.length;
    this.priority = plan.priority;
    this.promptTokens = plan.promptTokens;
    this.prefix = chunkPrefix(plan.endpoint, id, this.created, plan.model);
  }

  /** Streams send headers at once (as vLLM's StreamingResponse does) and, for chat, the role chunk. */
  start(): void {
    if (!this.plan.stream) return;
    this.res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' });
    if (this.plan.endpoint !== 'chat') return;
    let out = '';
    for (const choice of this.plan.choices) {
      const usage = this.plan.continuousUsage ? usageJson(choice.promptTokens, 0) : null;
      out += sse(this.prefix + chatRoleChoiceJson(choice.index) + chunkSuffix('chat', usage));
    }
    this.res.write(out);
  }

  decodeStep(): number {
    const { plan } = this;
    let out = '';
    let tokens = 0;
    let unfinished = 0;
    for (const choice of plan.choices) {
      if (choice.finishReason !== null) continue;
      const delta = choice.advance();
      tokens++;
      if (choice.finishReason === null) unfinished++;
      if (!plan.stream) continue;
      // Like vLLM, a step that only buffers text (possible stop string) sends no chunk.
      if (delta.length === 0 && choice.finishReason === null) continue;
      const usage = plan.continuousUsage ? usageJson(choice.promptTokens, choice.tokens) : null;
      out += sse(this.prefix + streamChoiceJson(plan.endpoint, choice, delta) + chunkSuffix(plan.endpoint, usage));
    }
    this.generated += tokens;
    if (unfinished === 0) out += this.finish();
    if (out.length > 0) this.res.write(out);
    if (unfinished === 0) this.res.end();
    this.injectFaults();
    return tokens;
  }

  private finish(): string {
    const { plan } = this;
    let completionTokens = 0;
    let anyLength = false;
    for (const choice of plan.choices) {
      completionTokens += choice.tokens;
      if (choice.finishReason === 'length') anyLength = true;
    }
    this.finishedReason = anyLength ? 'length' : 'stop';
    if (!plan.stream) {
      const body = fullResponse(plan.endpoint, this.id, this.created, plan.model, plan.choices, {
        prompt_tokens: plan.promptTokens,
        total_tokens: plan.promptTokens + completionTokens,
        completion_tokens: completionTokens,
      });
      this.res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
      return body;
    }
    const usage = plan.includeUsage
      ? sse(this.prefix + chunkSuffix(plan.endpoint, usageJson(plan.promptTokens, completionTokens)))
      : '';
    return usage + sseDone;
  }

  private injectFaults(): void {
    if (this.finishedReason !== null) return;
    if (!this.stalled && this.generated >= this.faults.stallAfterTokens) {
      this.stalled = true;
      this.ticket?.stall(this.faults.stallMs);
    }
    if (this.generated >= this.faults.dropAfterTokens) {
      this.res.socket?.destroy();
      this.ticket?.abort();
    }
  }
}
