/** Token counts as vLLM reports them. */
export interface TokenUsage {
  promptTokens: number;
  completionTokens: number;
}

interface UsageJson {
  prompt_tokens?: unknown;
  completion_tokens?: unknown;
}

const count = (value: unknown): number => (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0 ? value : 0);

/**
 * Follows the usage of a stream. With `continuous_usage_stats` vLLM puts cumulative usage on every
 * chunk, per choice (with n > 1 each choice counts its own tokens); the final chunk (empty
 * `choices`) sums them. So a client that disconnects is charged for exactly what was generated.
 */
export class StreamUsage {
  private prompt = 0;
  private readonly perChoice = new Map<number, number>();
  private final: TokenUsage | undefined;

  observe(chunk: { usage?: UsageJson | null; choices?: { index?: unknown }[] }): void {
    const usage = chunk.usage;
    if (usage === null || usage === undefined) return;
    const choices = chunk.choices ?? [];
    if (choices.length === 0) {
      this.final = { promptTokens: count(usage.prompt_tokens), completionTokens: count(usage.completion_tokens) };
      return;
    }
    this.prompt = Math.max(this.prompt, count(usage.prompt_tokens));
    for (const choice of choices) {
      const index = count(choice.index);
      this.perChoice.set(index, Math.max(this.perChoice.get(index) ?? 0, count(usage.completion_tokens)));
    }
  }

  /** True once the stream has reported any usage. */
  seen(): boolean {
    return this.final !== undefined || this.prompt > 0 || this.perChoice.size > 0;
  }

  current(): TokenUsage {
    if (this.final !== undefined) return this.final;
    let completion = 0;
    for (const tokens of this.perChoice.values()) completion += tokens;
    return { promptTokens: this.prompt, completionTokens: completion };
  }
}

/** Usage of a non-streaming response. */
export function usageOf(body: { usage?: UsageJson | null }): TokenUsage | undefined {
  if (body.usage === null || body.usage === undefined) return undefined;
  return { promptTokens: count(body.usage.prompt_tokens), completionTokens: count(body.usage.completion_tokens) };
}
