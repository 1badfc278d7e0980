import { BinaryHeap } from './binary-heap';
import { type LatencyProfile, decodeStepMs, prefillMs } from './latency';
import { type FinishedReason, type SimMetrics } from './metrics';

export type SchedulingPolicy = 'fcfs' | 'priority';

/** Node timers fire with about 1 ms resolution; work due that close is done in the same tick. */
const timerSlackMs = 1;
/** Most tokens one request makes up in a single late tick (a guard; a stall moves the timeline instead). */
const catchUpStepsMax = 256;

/** What the engine schedules: one HTTP generation request with its `seqs` sequences (the `n` choices). */
export interface EngineJob {
  readonly seqs: number;
  readonly priority: number;
  readonly promptTokens: number;
  /** Emits one token per unfinished sequence; returns how many tokens it emitted. */
  decodeStep(nowMs: number): number;
  /** Set once every sequence has finished: why the request ended. */
  readonly finishedReason: 'stop' | 'length' | null;
  /** Called when the job's first token ever is due (prefill done). */
  onFirstToken?(nowMs: number): void;
}

interface Slot {
  readonly job: EngineJob;
  readonly arrivalSeq: number;
  readonly arrivalMs: number;
  state: 'waiting' | 'running' | 'done';
  /** When the next token may be produced: end of prefill, or end of a stall. */
  readyAtMs: number;
  queuedMs: number;
  waitingSinceMs: number;
  started: boolean;
  lastTokenMs: number;
  generated: number;
}

export interface EngineOptions {
  maxNumSeqs: number;
  schedulingPolicy: SchedulingPolicy;
  /** In priority mode, a waiting request that outranks a running one takes its place (vLLM V0 behaviour). */
  preemption: boolean;
  latency: () => LatencyProfile;
  metrics: SimMetrics;
  now?: () => number;
}

/** A handle the request uses to talk to the engine after submission. */
export interface EngineTicket {
  /** The client went away: stop generating and free the slot. */
  abort(): void;
  /** Pause this request's generation for `durationMs` (fault injection). */
  stall(durationMs: number): void;
}

/**
 * A continuous-batching scheduler like vLLM's: up to `maxNumSeqs` sequences run, the rest wait
 * (FCFS, or by (priority, arrival) with preemption). One timer per engine drives decode steps; every
 * running request gets one token per step, and a step slows down as the batch grows.
 */
export class SimEngine {
  private readonly waiting: BinaryHeap<Slot>;
  private readonly running: Slot[] = [];
  private runningSeqs = 0;
  private waitingSeqs = 0;
  private arrivals = 0;
  private timer: NodeJS.Timeout | undefined;
  private timerAtMs = Infinity;
  private stopped = false;
  private readonly now: () => number;

  constructor(private readonly options: EngineOptions) {
    this.now = options.now ?? (() => performance.now());
    const byPriority = options.schedulingPolicy === 'priority';
    this.waiting = new BinaryHeap<Slot>((a, b) => (byPriority ? outranks(a, b) : a.arrivalSeq < b.arrivalSeq));
  }

  get runningCount(): number {
    return this.runningSeqs;
  }

  get waitingCount(): number {
    return this.waitingSeqs;
  }

  /** Queues a job; the engine calls `decodeStep` until it reports completion. */
  submit(job: EngineJob): EngineTicket {
    const nowMs = this.now();
    const slot: Slot = {
      job,
      arrivalSeq: this.arrivals++,
      arrivalMs: nowMs,
      state: 'waiting',
      readyAtMs: 0,
      queuedMs: 0,
      waitingSinceMs: nowMs,
      started: false,
      lastTokenMs: 0,
      generated: 0,
    };
    this.waiting.push(slot);
    this.waitingSeqs += job.seqs;
    this.schedule(nowMs);
    return {
      abort: () => this.abort(slot),
      stall: (durationMs) => {
        slot.readyAtMs = Math.max(slot.readyAtMs, this.now() + durationMs);
        this.arm(slot.readyAtMs);
      },
    };
  }

  /** Stops the timer; pending jobs stay where they are (used on server close). */
  stop(): void {
    this.stopped = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private abort(slot: Slot): void {
    if (slot.state === 'done') return;
    this.release(slot, 'abort', this.now());
    this.schedule(this.now());
  }

  private release(slot: Slot, reason: FinishedReason, nowMs: number): void {
    if (slot.state === 'running') {
      this.runningSeqs -= slot.job.seqs;
      const index = this.running.indexOf(slot);
      if (index >= 0) this.running.splice(index, 1);
    } else if (slot.state === 'waiting') {
      this.waitingSeqs -= slot.job.seqs;
    }
    slot.state = 'done';
    const metrics = this.options.metrics;
    metrics.requestSuccess[reason]++;
    if (reason === 'abort') return;
    metrics.e2eRequestLatency.observe((nowMs - slot.arrivalMs) / 1000);
    metrics.requestQueueTime.observe(slot.queuedMs / 1000);
    metrics.requestPromptTokens.observe(slot.job.promptTokens);
    metrics.requestGenerationTokens.observe(slot.generated);
  }

  /** Admits waiting jobs while there is room; in priority mode, evicts outranked running jobs. */
  private schedule(nowMs: number): void {
    const { maxNumSeqs, schedulingPolicy, preemption } = this.options;
    for (let head = this.popDone(); head !== undefined; head = this.popDone()) {
      const fits = this.runningSeqs + head.job.seqs <= maxNumSeqs || this.running.length === 0;
      if (fits) {
        this.waiting.pop();
        this.admit(head, nowMs);
        continue;
      }
      if (schedulingPolicy !== 'priority' || !preemption) break;
      const victim = this.lowestRanked();
      if (victim === undefined || !outranks(head, victim)) break;
      this.preempt(victim, nowMs);
    }
  }

  /** Peeks the waiting head, dropping aborted entries (lazy deletion keeps abort O(1)). */
  private popDone(): Slot | undefined {
    while (this.waiting.peek()?.state === 'done') this.waiting.pop();
    return this.waiting.peek();
  }

  private lowestRanked(): Slot | undefined {
    let worst: Slot | undefined;
    for (const slot of this.running) if (worst === undefined || outranks(worst, slot)) worst = slot;
    return worst;
  }

  private admit(slot: Slot, nowMs: number): void {
    this.waitingSeqs -= slot.job.seqs;
    this.runningSeqs += slot.job.seqs;
    slot.state = 'running';
    slot.queuedMs += nowMs - slot.waitingSinceMs;
    // A resumed request recomputes its KV cache, so it pays prefill again (vLLM's RECOMPUTE mode).
    slot.readyAtMs = Math.max(
      slot.readyAtMs,
      nowMs + prefillMs(this.options.latency(), slot.job.promptTokens + slot.generated),
    );
    this.running.push(slot);
    this.arm(slot.readyAtMs);
  }

  private preempt(slot: Slot, nowMs: number): void {
    const index = this.running.indexOf(slot);
    if (index >= 0) this.running.splice(index, 1);
    this.runningSeqs -= slot.job.seqs;
    this.waitingSeqs += slot.job.seqs;
    slot.state = 'waiting';
    slot.waitingSinceMs = nowMs;
    this.options.metrics.preemptions++;
    this.waiting.push(slot);
  }

  private arm(atMs: number): void {
    if (this.stopped || atMs >= this.timerAtMs) return;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timerAtMs = atMs;
    this.timer = setTimeout(this.tick, Math.max(0, atMs - this.now()));
  }

  private readonly tick = (): void => {
    this.timer = undefined;
    this.timerAtMs = Infinity;
    const nowMs = this.now();
    const stepMs = decodeStepMs(this.options.latency(), this.runningSeqs);
    let nextMs = Infinity;
    let finished = false;
    // Backwards, without a copy: a step can only remove its own slot (finish, or a dropped connection).
    for (let i = this.running.length - 1; i >= 0; i--) {
      const slot = this.running[i] as Slot;
      // Slots due within the timer's granularity share this tick instead of waking it again.
      if (slot.readyAtMs > nowMs + timerSlackMs) continue;
      // The GPU's timeline is its own: each token is due one step after the previous one was due,
      // not after this tick ran. A tick the host delivered late sends every token that came due
      // meanwhile (as vLLM's API server sends what the engine produced while it was busy).
      for (let steps = 0; ; steps++) {
        if (this.step(slot, nowMs)) {
          finished = true;
          break;
        }
        if (slot.state !== 'running') break;
        slot.readyAtMs += stepMs;
        if (slot.readyAtMs > nowMs + timerSlackMs || steps >= catchUpStepsMax) break;
      }
    }
    if (finished) this.schedule(nowMs);
    for (const slot of this.running) nextMs = Math.min(nextMs, slot.readyAtMs);
    if (nextMs < Infinity) this.arm(nextMs);
  };

  /** One decode step of one job, as the API server sends it (metrics on that clock); returns true when the job finished. */
  private step(slot: Slot, nowMs: number): boolean {
    const metrics = this.options.metrics;
    if (!slot.started) {
      slot.started = true;
      metrics.promptTokens += slot.job.promptTokens;
      metrics.timeToFirstToken.observe((nowMs - slot.arrivalMs) / 1000);
      slot.job.onFirstToken?.(nowMs);
    } else {
      metrics.timePerOutputToken.observe((nowMs - slot.lastTokenMs) / 1000);
    }
    slot.lastTokenMs = nowMs;
    const tokens = slot.job.decodeStep(nowMs);
    metrics.generationTokens += tokens;
    slot.generated += tokens;
    // The job may have been aborted while writing (client gone, or a dropped-connection fault).
    if (slot.state === 'done') return true;
    const reason = slot.job.finishedReason;
    if (reason === null) return false;
    this.release(slot, reason, nowMs);
    return true;
  }
}

/** vLLM orders by (priority, arrival): lower priority value first, ties by arrival. */
function outranks(a: Slot, b: Slot): boolean {
  return a.job.priority !== b.job.priority ? a.job.priority < b.job.priority : a.arrivalSeq < b.arrivalSeq;
}
