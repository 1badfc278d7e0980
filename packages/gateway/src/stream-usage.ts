/** Token counts as vLLM reports them. */
export interface TokenUsage {
  promptTokens: number;
  completionTokens: number;
}

interface UsageJson {
  prompt_tokens?: unknown;
  completion_tokens?: unknown;
}

const count = (value: unknown): number =>
  typeof value === 'number' && Number.isSafeInteger(value) && value >= 0 ? value : 0;

interface ChoiceJson {
  index?: unknown;
  finish_reason?: unknown;
  text?: unknown;
  delta?: { content?: unknown; reasoning_content?: unknown; reasoning?: unknown; tool_calls?: unknown } | null;
}

const hasOutput = (choice: ChoiceJson): boolean => {
  if (typeof choice.text === 'string' && choice.text.length > 0) return true;
  const delta = choice.delta;
  if (delta === null || delta === undefined) return false;
  return (
    (typeof delta.content === 'string' && delta.content.length > 0) ||
    (typeof delta.reasoning_content === 'string' && delta.reasoning_content.length > 0) ||
    (typeof delta.reasoning === 'string' && delta.reasoning.length > 0) ||
    (Array.isArray(delta.tool_calls) && delta.tool_calls.length > 0)
  );
};

/**
 * Follows the usage of a stream. With `continuous_usage_stats` vLLM puts cumulative usage on every
 * chunk, per choice (with n > 1 each choice counts its own tokens); the final chunk (empty
 * `choices`) sums them. Chunks that carry output are counted too (each is at least one token), so
 * a server that reports no usage, or a stream cut before its first usage, is still metered, and
 * a choice that runs past the held bound is seen as it happens.
 */
export class StreamUsage {
  private prompt = 0;
  /** Per choice: the larger of the reported cumulative tokens and the output chunks counted. */
  private readonly perChoice = new Map<number, { reported: number; counted: number; finished: boolean }>();
  private final: TokenUsage | undefined;
  /** Running figures, so a stream of many choices costs O(1) per chunk. */
  private completionTotal = 0;
  private choiceMax = 0;

  observe(chunk: { usage?: UsageJson | null; choices?: ChoiceJson[] }): void {
    const choices = chunk.choices ?? [];
    const usage = chunk.usage;
    if (choices.length === 0) {
      if (usage !== null && usage !== undefined)
        this.final = { promptTokens: count(usage.prompt_tokens), completionTokens: count(usage.completion_tokens) };
      return;
    }
    const hasUsage = usage !== null && usage !== undefined;
    if (hasUsage) this.prompt = Math.max(this.prompt, count(usage.prompt_tokens));
    const reported = hasUsage ? count(usage.completion_tokens) : 0;
    for (const choice of choices)
      this.observeChoice(
        count(choice.index),
        reported,
        hasOutput(choice),
        choice.finish_reason !== null && choice.finish_reason !== undefined,
      );
  }

  /**
   * One chunk of a single unfinished choice (`tokenChunk`), with its continuous usage when it
   * carries one, counted as `observe` counts it.
   */
  observeToken(index: number, output: boolean, promptTokens?: number, completionTokens?: number): void {
    if (promptTokens !== undefined) this.prompt = Math.max(this.prompt, promptTokens);
    this.observeChoice(index, completionTokens ?? 0, output, false);
  }

  private observeChoice(index: number, reported: number, output: boolean, finished: boolean): void {
    let entry = this.perChoice.get(index);
    if (entry === undefined) {
      entry = { reported: 0, counted: 0, finished: false };
      this.perChoice.set(index, entry);
    }
    const before = Math.max(entry.reported, entry.counted);
    entry.reported = Math.max(entry.reported, reported);
    if (output) entry.counted++;
    const after = Math.max(entry.reported, entry.counted);
    this.completionTotal += after - before;
    this.choiceMax = Math.max(this.choiceMax, after);
    if (finished) entry.finished = true;
  }

  /** True once the stream has reported any usage or output. */
  seen(): boolean {
    return this.final !== undefined || this.prompt > 0 || this.perChoice.size > 0;
  }

  /** Completion tokens of one choice so far (at least the output chunks counted). */
  choiceTokens(index: number): number {
    const entry = this.perChoice.get(index);
    return entry === undefined ? 0 : Math.max(entry.reported, entry.counted);
  }

  /** True when a choice went past `perChoiceMax` tokens, or the stream's total past `totalMax`. */
  overBound(perChoiceMax: number, totalMax: number): boolean {
    return this.choiceMax > perChoiceMax || this.completionTotal > totalMax;
  }

  /** Choices that have started and not finished. */
  openChoices(): number[] {
    return [...this.perChoice].filter(([, entry]) => !entry.finished).map(([index]) => index);
  }

  current(): TokenUsage {
    const completion = this.completionTotal;
    if (this.final !== undefined)
      return {
        promptTokens: this.final.promptTokens,
        completionTokens: Math.max(this.final.completionTokens, completion),
      };
    return { promptTokens: this.prompt, completionTokens: completion };
  }
}

/** Usage of a non-streaming response. */
export function usageOf(body: { usage?: UsageJson | null }): TokenUsage | undefined {
  if (body.usage === null || body.usage === undefined) return undefined;
  return { promptTokens: count(body.usage.prompt_tokens), completionTokens: count(body.usage.completion_tokens) };
}
