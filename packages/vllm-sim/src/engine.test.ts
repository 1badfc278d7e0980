import { afterEach, describe, expect, it, vi } from 'vitest';
import { SimEngine, type EngineJob } from './engine';
import { SimMetrics } from './metrics';

/** A job that records when each of its tokens was produced, on the engine's clock. */
function recordingJob(tokens: number, onToken: (index: number) => void): EngineJob & { at: number[] } {
  const at: number[] = [];
  return {
    seqs: 1,
    priority: 0,
    promptTokens: 1,
    at,
    finishedReason: null as 'stop' | 'length' | null,
    decodeStep(nowMs: number) {
      at.push(nowMs);
      onToken(at.length - 1);
      if (at.length === tokens) (this as { finishedReason: string | null }).finishedReason = 'length';
      return 1;
    },
  };
}

/** An FCFS engine without preemption whose latency profile and clock the test sets. */
function engineWith(
  maxNumSeqs: number,
  latency: { ttftMs: number; tpotMs: number; tpotGrowthPerRunningSeq: number },
  now: () => number,
): SimEngine {
  return new SimEngine({
    maxNumSeqs,
    schedulingPolicy: 'fcfs',
    preemption: false,
    latency: () => ({ prefillMsPerPromptToken: 0, ...latency }),
    metrics: new SimMetrics('m', 1024),
    now,
  });
}

describe('the simulated engine clock', () => {
  afterEach(() => vi.useRealTimers());

  it('keeps tokens on the GPU timeline when its host delivers a tick late, instead of drifting by the delay', async () => {
    vi.useFakeTimers();
    let clock = 0;
    // The host stalls for 40 ms after the third token: every later tick sees the clock 40 ms ahead.
    let hostLagMs = 0;
    const engine = engineWith(4, { ttftMs: 10, tpotMs: 10, tpotGrowthPerRunningSeq: 0 }, () => clock + hostLagMs);
    const job = recordingJob(10, (index) => {
      if (index === 2) hostLagMs = 40;
    });
    engine.submit(job);
    for (let step = 0; step < 200 && job.finishedReason === null; step++) {
      clock += 1;
      await vi.advanceTimersByTimeAsync(1);
    }
    engine.stop();
    expect(job.at).toHaveLength(10);
    // Due at 10, 20, ..., 100: the last token is on time (within the 1 ms timer slack), not 40 ms late.
    expect(job.at.at(-1)).toBeGreaterThanOrEqual(99);
    expect(job.at.at(-1)).toBeLessThanOrEqual(101);
    // The tokens produced during the stall come out together as soon as the host is back, in order.
    expect(job.at.slice(3, 7).every((at) => at >= 70)).toBe(true);
    expect(new Set(job.at.slice(3, 7)).size).toBe(1);
  });

  it('still slows every decode step when the batch grows', async () => {
    vi.useFakeTimers();
    let clock = 0;
    const engine = engineWith(8, { ttftMs: 0, tpotMs: 10, tpotGrowthPerRunningSeq: 1 }, () => clock);
    const alone = recordingJob(3, () => {});
    engine.submit(alone);
    for (let step = 0; step < 200 && alone.finishedReason === null; step++) {
      clock += 1;
      await vi.advanceTimersByTimeAsync(1);
    }
    const pair = [recordingJob(3, () => {}), recordingJob(3, () => {})];
    for (const job of pair) engine.submit(job);
    for (let step = 0; step < 400 && pair.some((job) => job.finishedReason === null); step++) {
      clock += 1;
      await vi.advanceTimersByTimeAsync(1);
    }
    engine.stop();
    const gaps = (at: number[]) => (at[2] as number) - (at[0] as number);
    expect(gaps(alone.at)).toBeLessThanOrEqual(21);
    // Two running sequences: each step takes twice as long.
    expect(gaps(pair[0]!.at)).toBeGreaterThanOrEqual(38);
  });
});
