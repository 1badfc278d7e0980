// What a bench child process reports about its own tail: CPU time, its main thread's share of a CPU, event-loop delay and GC pauses.
import { appendFileSync, mkdirSync, readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { monitorEventLoopDelay, performance, PerformanceObserver, type PerformanceEntry } from 'node:perf_hooks';

/** BENCH_TIMELINE=1 writes here (timeline.ts); defined here so a child process loads no database code for it. */
export const timelineDir = '/tmp/gwtimeline';

export interface Vitals {
  cpuMicros: number;
  /**
   * The main thread's share of the wall time on a CPU and waiting for one on the run queue
   * (Linux's schedstat; undefined elsewhere): how near a single event loop is to saturation.
   */
  mainThread?: { busy: number; waiting: number };
  loop: { p50: number; p99: number; p999: number; max: number };
  gc: {
    count: number;
    totalMs: number;
    maxMs: number;
    byKind: Record<string, { count: number; ms: number; maxMs: number }>;
  };
}

const gcKinds: Record<number, string> = { 1: 'minor', 2: 'major', 4: 'incremental', 8: 'weakcb', 16: 'minor' };

/** The calling thread's time on a CPU and waiting on the run queue, in ns (Linux only). */
function threadSchedstat(): { runNs: number; waitNs: number; at: number } | undefined {
  try {
    const [runNs, waitNs] = readFileSync('/proc/thread-self/schedstat', 'utf8').split(' ').map(Number);
    return runNs === undefined || waitNs === undefined ? undefined : { runNs, waitNs, at: performance.now() };
  } catch {
    return undefined;
  }
}

/** Starts watching; `read()` gives the figures since the start or the last `reset()`. */
export function watchVitals(): { reset(): void; read(): Vitals } {
  let baseline = process.cpuUsage();
  let schedBaseline = threadSchedstat();
  const loopDelay = monitorEventLoopDelay({ resolution: 1 });
  loopDelay.enable();
  let pauses: number[] = [];
  let byKind: Vitals['gc']['byKind'] = {};
  // BENCH_TIMELINE=1: each pause on the wall clock (/tmp/gwtimeline/gc-<pid>.csv), written at each read().
  const timeline = process.env.BENCH_TIMELINE === '1' ? ([] as string[]) : undefined;
  const timelineFile = `${timelineDir}/gc-${basename(process.argv[1] ?? String(process.pid)).replace(/\..*/, '')}.csv`;
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries() as (PerformanceEntry & { detail?: { kind?: number } })[]) {
      const kind = gcKinds[entry.detail?.kind ?? 0] ?? 'other';
      timeline?.push(`${(performance.timeOrigin + entry.startTime).toFixed(1)},${entry.duration.toFixed(2)},${kind}`);
      pauses.push(entry.duration);
      const slot = (byKind[kind] ??= { count: 0, ms: 0, maxMs: 0 });
      slot.count++;
      slot.ms += entry.duration;
      slot.maxMs = Math.max(slot.maxMs, entry.duration);
    }
  }).observe({ entryTypes: ['gc'] });
  return {
    reset() {
      baseline = process.cpuUsage();
      schedBaseline = threadSchedstat();
      loopDelay.reset();
      pauses = [];
      byKind = {};
    },
    read() {
      if (timeline !== undefined && timeline.length > 0) {
        mkdirSync(timelineDir, { recursive: true });
        appendFileSync(timelineFile, `${timeline.join('\n')}\n`);
        timeline.length = 0;
      }
      const cpu = process.cpuUsage(baseline);
      const sched = threadSchedstat();
      const wallNs = sched && schedBaseline ? (sched.at - schedBaseline.at) * 1e6 : 0;
      return {
        cpuMicros: cpu.user + cpu.system,
        ...(sched && schedBaseline && wallNs > 0
          ? {
              mainThread: {
                busy: (sched.runNs - schedBaseline.runNs) / wallNs,
                waiting: (sched.waitNs - schedBaseline.waitNs) / wallNs,
              },
            }
          : {}),
        loop: {
          p50: loopDelay.percentile(50) / 1e6,
          p99: loopDelay.percentile(99) / 1e6,
          p999: loopDelay.percentile(99.9) / 1e6,
          max: loopDelay.max / 1e6,
        },
        gc: { count: pauses.length, totalMs: pauses.reduce((a, b) => a + b, 0), maxMs: Math.max(0, ...pauses), byKind },
      };
    },
  };
}

/** One line: the main thread's CPU and run-queue shares, event-loop delay and GC pauses. */
export function describeVitals(vitals: Vitals): string {
  const { loop, gc, mainThread } = vitals;
  const thread =
    mainThread === undefined
      ? ''
      : `main thread on a CPU ${(100 * mainThread.busy).toFixed(0)}% of the time, waiting for one ${(100 * mainThread.waiting).toFixed(0)}%; `;
  return `${thread}event loop delay p50 ${loop.p50.toFixed(2)} ms, p99 ${loop.p99.toFixed(2)} ms, p99.9 ${loop.p999.toFixed(1)} ms, max ${loop.max.toFixed(1)} ms; GC ${gc.count} pauses, ${gc.totalMs.toFixed(0)} ms in all, longest ${gc.maxMs.toFixed(1)} ms (${Object.entries(
    gc.byKind,
  )
    .map(([kind, slot]) => `${kind} ${slot.count}× ${slot.ms.toFixed(0)} ms, longest ${slot.maxMs.toFixed(1)}`)
    .join('; ')})`;
}
