import { type Rng } from './rng';
import { outputVocab } from './vocab';

/** Produces the pieces (one per token) of one choice. */
export interface TokenSource {
  /** The next token's text. */
  next(): string;
  /** True once the model would emit EOS after the last piece returned. */
  readonly ended: boolean;
}

/** Free text: vocabulary words drawn from `rng` until `targetTokens` (then EOS). */
export function textSource(rng: Rng, targetTokens: number): TokenSource {
  let produced = 0;
  return {
    next() {
      produced++;
      return outputVocab[rng.next() % outputVocab.length] as string;
    },
    get ended() {
      return produced >= targetTokens;
    },
  };
}

/** Pre-rendered text (structured output) cut into tokens of at most 4 code points. */
export function piecesSource(text: string): TokenSource {
  const pieces: string[] = [];
  const codePoints = Array.from(text);
  for (let i = 0; i < codePoints.length; i += 4) pieces.push(codePoints.slice(i, i + 4).join(''));
  let index = 0;
  return {
    next() {
      return pieces[index++] ?? '';
    },
    get ended() {
      return index >= pieces.length;
    },
  };
}

/** One of the `n` choices of a request as it is being generated. */
export class ChoiceState {
  text = '';
  emitted = 0;
  tokens = 0;
  finishReason: 'stop' | 'length' | null = null;
  stopReason: string | null = null;

  constructor(
    readonly index: number,
    readonly promptTokens: number,
    private readonly source: TokenSource,
    private readonly maxTokens: number,
    private readonly stops: readonly string[],
    private readonly stopLengthMax: number,
  ) {}

  /**
   * Generates one token and returns the text that may now be shown. Like vLLM's detokenizer, text that
   * could still turn out to be the start of a stop string is held back until it cannot.
   */
  advance(): string {
    const previousLength = this.text.length;
    this.text += this.source.next();
    this.tokens++;
    if (this.stops.length > 0) this.checkStops(previousLength);
    if (this.finishReason === null && this.source.ended) this.finishReason = 'stop';
    if (this.finishReason === null && this.tokens >= this.maxTokens) this.finishReason = 'length';
    const visibleEnd =
      this.finishReason !== null
        ? this.text.length
        : Math.max(this.emitted, this.text.length - Math.max(0, this.stopLengthMax - 1));
    const delta = this.text.slice(this.emitted, visibleEnd);
    this.emitted = visibleEnd;
    return delta;
  }

  private checkStops(previousLength: number): void {
    const from = Math.max(0, previousLength - this.stopLengthMax + 1);
    let found = -1;
    let foundStop: string | null = null;
    for (const stop of this.stops) {
      const at = this.text.indexOf(stop, from);
      if (at >= 0 && (found < 0 || at < found)) {
        found = at;
        foundStop = stop;
      }
    }
    if (found < 0) return;
    this.text = this.text.slice(0, found);
    this.emitted = Math.min(this.emitted, found);
    this.finishReason = 'stop';
    this.stopReason = foundStop;
  }
}
