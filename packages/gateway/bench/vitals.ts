// What a bench child process reports about its own tail: CPU time, event-loop delay and GC pauses.
import { monitorEventLoopDelay, PerformanceObserver, type PerformanceEntry } from 'node:perf_hooks';

export interface Vitals {
  cpuMicros: number;
  loop: { p50: number; p99: number; p999: number; max: number };
  gc: {
    count: number;
    totalMs: number;
    maxMs: number;
    byKind: Record<string, { count: number; ms: number; maxMs: number }>;
  };
}

const gcKinds: Record<number, string> = { 1: 'minor', 2: 'major', 4: 'incremental', 8: 'weakcb', 16: 'minor' };

/** Starts watching; `read()` gives the figures since the start or the last `reset()`. */
export function watchVitals(): { reset(): void; read(): Vitals } {
  let baseline = process.cpuUsage();
  const loopDelay = monitorEventLoopDelay({ resolution: 1 });
  loopDelay.enable();
  let pauses: number[] = [];
  let byKind: Vitals['gc']['byKind'] = {};
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries() as (PerformanceEntry & { detail?: { kind?: number } })[]) {
      pauses.push(entry.duration);
      const slot = (byKind[gcKinds[entry.detail?.kind ?? 0] ?? 'other'] ??= { count: 0, ms: 0, maxMs: 0 });
      slot.count++;
      slot.ms += entry.duration;
      slot.maxMs = Math.max(slot.maxMs, entry.duration);
    }
  }).observe({ entryTypes: ['gc'] });
  return {
    reset() {
      baseline = process.cpuUsage();
      loopDelay.reset();
      pauses = [];
      byKind = {};
    },
    read() {
      const cpu = process.cpuUsage(baseline);
      return {
        cpuMicros: cpu.user + cpu.system,
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

/** One line: event-loop delay and GC pauses. */
export function describeVitals(vitals: Vitals): string {
  const { loop, gc } = vitals;
  return `event loop delay p50 ${loop.p50.toFixed(2)} ms, p99 ${loop.p99.toFixed(2)} ms, p99.9 ${loop.p999.toFixed(1)} ms, max ${loop.max.toFixed(1)} ms; GC ${gc.count} pauses, ${gc.totalMs.toFixed(0)} ms in all, longest ${gc.maxMs.toFixed(1)} ms (${Object.entries(
    gc.byKind,
  )
    .map(([kind, slot]) => `${kind} ${slot.count}× ${slot.ms.toFixed(0)} ms, longest ${slot.maxMs.toFixed(1)}`)
    .join('; ')})`;
}
