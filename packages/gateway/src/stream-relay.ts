import type { ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import { StringDecoder } from 'node:string_decoder';
import { release, type Admission } from './metering';
import { GatewayError } from './openai-error';
import {
  balanceHeaders,
  costHeaders,
  priceCharge,
  type Flight,
  type InferenceDeps,
  type InferenceKind,
  type Outcome,
  type RelayMeta,
  type Upstream,
} from './relay-common';
import { SseParser } from './sse';
import { StreamUsage } from './stream-usage';
import { tokenChunk, usageCut } from './token-chunk';

export interface ChunkJson {
  id?: unknown;
  object?: unknown;
  created?: unknown;
  model?: unknown;
  usage?: { prompt_tokens?: unknown; completion_tokens?: unknown } | null;
  choices?: { index?: unknown; delta?: { content?: unknown }; text?: unknown; finish_reason?: unknown }[];
}

/** How the relay left the upstream loop. */
type Ending = 'done' | 'cut_at_bound' | 'client_left' | 'upstream_ended';

/**
 * Relays an SSE answer as it arrives, counting tokens per choice: a choice that goes past the held
 * bound ends the answer there (`finish_reason: "length"`), and a client that leaves or stops
 * reading (no drain for `clientWriteStallMs`) is cut and pays for what was generated.
 */
export async function relayStream(
  deps: InferenceDeps,
  flight: Flight,
  upstream: Upstream,
  res: ServerResponse,
  meta: RelayMeta,
  kind: InferenceKind,
): Promise<boolean> {
  const admission = flight.admission as Admission;
  const options = (meta.body.stream_options ?? {}) as { include_usage?: unknown; continuous_usage_stats?: unknown };
  // vLLM turns include_usage on whenever stream_options is present; mirror what the client would get.
  const wantsUsage = meta.body.stream_options !== undefined && options.include_usage !== false;
  const wantsContinuous = options.continuous_usage_stats === true;
  const perChoiceMax = admission.estimate.completionTokensPerChoice;
  const totalMax = admission.estimate.completionTokensBound;
  const holdHeaders = costHeaders(
    Object.fromEntries(admission.holds.map((hold) => [hold.currency, hold.amount])),
    'hold',
  );
  res.writeHead(200, {
    'content-type': 'text/event-stream',
    'cache-control': 'no-cache',
    'x-request-id': flight.requestId,
    ...holdHeaders,
    ...balanceHeaders(admission),
  });
  const relayStartedAt = performance.now();
  const tracker = new StreamUsage();
  const parser = new SseParser();
  // Keeps a character cut between two reads for the next one, as TextDecoder's stream mode does, for a third of its cost.
  const decoder = new StringDecoder('utf8');
  const writer = new ClientWriter(res, deps.settings.streamFlushIntervalMs, deps.settings.clientWriteStallMs);
  let completionText = '';
  let ttftMs: number | undefined;
  let ending: Ending = 'upstream_ended';
  try {
    upstreamLoop: for await (const bytes of upstream.body) {
      let batch = '';
      for (const data of parser.push(decoder.write(bytes))) {
        if (data === '[DONE]') {
          ending = 'done';
          batch += 'data: [DONE]\n\n';
          continue;
        }
        // Most chunks are one token of one choice, with continuous usage: read without parsing (token-chunk.ts).
        const token = tokenChunk(data, kind);
        let chunk: ChunkJson | undefined;
        let piece: unknown;
        let pieceIndex: unknown;
        if (token !== undefined) {
          tracker.observeToken(token.index, token.content.length > 0, token.promptTokens, token.completionTokens);
          piece = token.content;
          pieceIndex = token.index;
        } else {
          try {
            chunk = JSON.parse(data) as ChunkJson;
          } catch {
            batch += `data: ${data}\n\n`;
            continue;
          }
          tracker.observe(chunk as Parameters<StreamUsage['observe']>[0]);
          const choice = chunk.choices?.[0];
          piece = kind === 'chat' ? choice?.delta?.content : choice?.text;
          pieceIndex = choice?.index;
        }
        const finalUsage = chunk !== undefined && Array.isArray(chunk.choices) && chunk.choices.length === 0;
        if (!finalUsage && tracker.overBound(perChoiceMax, totalMax)) {
          // Past the hold: this chunk is not sent; the answer ends at the bound.
          ending = 'cut_at_bound';
          const cut = chunk ?? (JSON.parse(data) as ChunkJson);
          batch += closingEvents(cut, tracker, kind, wantsUsage, perChoiceMax, totalMax);
          writer.end(batch);
          break upstreamLoop;
        }
        if (typeof piece === 'string' && piece.length > 0) {
          ttftMs ??= performance.now() - meta.startedAt;
          if (pieceIndex === 0 && completionText.length < deps.settings.payloadBytesMax) completionText += piece;
        }
        if (finalUsage && !wantsUsage) continue;
        let out = data;
        if (!wantsContinuous) {
          if (token !== undefined) {
            if (token.usageAt > 0) out = usageCut(data, token.usageAt, kind);
          } else if (chunk !== undefined && !finalUsage && chunk.usage !== undefined && chunk.usage !== null) {
            out = withoutUsage(data, chunk, kind);
          }
        }
        batch += `data: ${out}\n\n`;
      }
      if (ending === 'done') {
        // [DONE]: the client has its whole answer in one write that also ends the response; the
        // upstream is still read to its end so that its connection stays reusable.
        writer.end(batch);
        continue;
      }
      // Most pushes are written or coalesced at once: only a write that waits for drain is awaited.
      const pushed = writer.push(batch);
      if (!(typeof pushed === 'boolean' ? pushed : await pushed)) {
        ending = 'client_left';
        if (writer.stalled) meta.abandon();
        break;
      }
    }
    if (ending !== 'done' && ending !== 'cut_at_bound' && !(await writer.flush())) ending = 'client_left';
  } catch (error) {
    writer.cancel();
    // A connection that breaks after [DONE] has delivered the whole answer: it is charged as completed.
    if (!meta.upstreamAbort.aborted && ending !== 'done' && ending !== 'cut_at_bound')
      return failStream(deps, flight, res, error);
  }
  let outcome: Outcome = ending === 'cut_at_bound' ? 'cut_at_bound' : 'completed';
  if (ending !== 'done' && ending !== 'cut_at_bound') {
    const cutByUs = meta.timeout.aborted || meta.clientGone.aborted || ending === 'client_left';
    if (!cutByUs) return failStream(deps, flight, res, new Error('the model server closed the stream early'));
    // The client left, stopped reading, or the request ran out of time: it pays for what was
    // generated (counted, when no usage came yet), the fixed terms included; never nothing.
    outcome = meta.timeout.aborted && !meta.clientGone.aborted ? 'timed_out' : 'client_aborted';
    if (!res.writableEnded) res.destroy();
  }
  const { commit } = priceCharge(
    deps,
    flight,
    upstream.lease.replica.id,
    meta,
    tracker.current(),
    outcome,
    ttftMs,
    completionText,
  );
  if (!res.writableEnded && !res.destroyed) res.end();
  if (outcome === 'completed') deps.metrics.observePhase('stream_relay', performance.now() - relayStartedAt);
  deps.metrics.countRequest(kind, outcome === 'client_aborted' ? 499 : outcome === 'timed_out' ? 504 : 200);
  upstream.lease.release({ ok: true });
  await commit();
  return true;
}

/**
 * The events that end an answer cut at the held bound: every open choice finishes with
 * `finish_reason: "length"`, then the usage the client asked for (at the bound), then [DONE].
 */
function closingEvents(
  chunk: ChunkJson,
  tracker: StreamUsage,
  kind: InferenceKind,
  wantsUsage: boolean,
  perChoiceMax: number,
  totalMax: number,
): string {
  const head = {
    id: chunk.id,
    object: chunk.object ?? (kind === 'chat' ? 'chat.completion.chunk' : 'text_completion'),
    created: chunk.created,
    model: chunk.model,
  };
  let out = '';
  for (const index of tracker.openChoices()) {
    const choice =
      kind === 'chat'
        ? { index, delta: {}, logprobs: null, finish_reason: 'length' }
        : { index, text: '', logprobs: null, finish_reason: 'length' };
    out += `data: ${JSON.stringify({ ...head, choices: [choice] })}\n\n`;
  }
  if (wantsUsage) {
    const usage = tracker.current();
    const completionTokens = Math.min(
      usage.completionTokens,
      totalMax,
      perChoiceMax * Math.max(1, tracker.openChoices().length),
    );
    out += `data: ${JSON.stringify({ ...head, choices: [], usage: { prompt_tokens: usage.promptTokens, completion_tokens: completionTokens, total_tokens: usage.promptTokens + completionTokens } })}\n\n`;
  }
  return `${out}data: [DONE]\n\n`;
}

/**
 * A chunk without the usage the client did not ask for (continuous usage): chat drops the field,
 * completions carry `"usage":null`, as vLLM sends them. vLLM writes usage as the chunk's last field,
 * a flat object; then it is cut from the text as is, else the chunk is serialised again.
 */
export function withoutUsage(data: string, chunk: ChunkJson, kind: InferenceKind): string {
  const at = data.lastIndexOf(',"usage":{');
  const keys = Object.keys(chunk);
  if (at > 0 && keys[keys.length - 1] === 'usage' && data.endsWith('}}') && data.indexOf('{', at + 10) < 0) {
    return usageCut(data, at, kind);
  }
  const copy: ChunkJson = { ...chunk };
  if (kind === 'chat') delete copy.usage;
  else copy.usage = null;
  return JSON.stringify(copy);
}

/**
 * Writes to the client: tokens are coalesced into one write per flush interval (the first goes out
 * at once), as vLLM's own stream_interval does, and a timer flushes what a stalled upstream left
 * pending. A write waits for the client to drain, at most `stallMs`: a client that stops reading
 * is cut, so it can hold neither a model slot nor its hold forever.
 */
class ClientWriter {
  private pending = '';
  private lastFlushAt = 0;
  private timer: NodeJS.Timeout | undefined;
  /** True once a write waited `stallMs` without the client draining. */
  stalled = false;

  constructor(
    private readonly res: ServerResponse,
    private readonly intervalMs: number,
    private readonly stallMs: number,
  ) {}

  /**
   * Queues `text`; writes it when the interval allows. False when the client is gone; a promise only
   * when the write waits for the client to drain.
   */
  push(text: string): boolean | Promise<boolean> {
    this.pending += text;
    if (this.pending === '') return !this.res.destroyed;
    const now = performance.now();
    if (now - this.lastFlushAt >= this.intervalMs) {
      this.cancel();
      this.lastFlushAt = now;
      return this.write(this.take());
    }
    this.timer ??= setTimeout(
      () => {
        this.timer = undefined;
        if (this.pending === '' || this.res.destroyed) return;
        this.lastFlushAt = performance.now();
        this.res.write(this.take());
      },
      this.intervalMs - (now - this.lastFlushAt),
    );
    return true;
  }

  /** Writes what is pending; false when the client is gone. */
  async flush(): Promise<boolean> {
    this.cancel();
    if (this.pending === '' || this.res.destroyed) return !this.res.destroyed;
    return this.write(this.take());
  }

  /** Ends the response with what is pending plus `text`, in one write. */
  end(text: string): void {
    this.cancel();
    const out = this.take() + text;
    if (!this.res.destroyed && !this.res.writableEnded) this.res.end(out);
  }

  cancel(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private take(): string {
    const out = this.pending;
    this.pending = '';
    return out;
  }

  private write(text: string): boolean | Promise<boolean> {
    const res = this.res;
    if (res.destroyed) return false;
    if (res.write(text)) return true;
    return new Promise<boolean>((resolve) => {
      const finish = (value: boolean) => {
        clearTimeout(timer);
        res.off('drain', onDrain);
        res.off('close', onClose);
        resolve(value);
      };
      const onDrain = () => finish(true);
      const onClose = () => finish(false);
      const timer = setTimeout(() => {
        this.stalled = true;
        finish(false);
      }, this.stallMs);
      res.once('drain', onDrain);
      res.once('close', onClose);
    });
  }
}

/** The upstream broke mid-stream: nobody pays; the client gets an error event. */
async function failStream(deps: InferenceDeps, flight: Flight, res: ServerResponse, error: unknown): Promise<boolean> {
  if (flight.admission !== undefined && !flight.resolved) {
    flight.resolved = true;
    await release(
      deps.ledger,
      flight.admission,
      `upstream failed mid-stream: ${(error as Error)?.message ?? String(error)}`,
    );
  }
  const failure = new GatewayError(
    502,
    'The model server failed during the answer; you were not charged. Retry the request.',
    'server_error',
    'upstream_failed_mid_stream',
  );
  if (!res.writableEnded) res.end(`data: ${JSON.stringify(failure.body())}\n\n`);
  deps.metrics.countRequest('stream_upstream_error', 502);
  return false;
}
