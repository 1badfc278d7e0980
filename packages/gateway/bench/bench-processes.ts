// The gateway bench's plumbing: its child processes, and what the simulator itself saw of a phase.
import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { gatewayNodeFlags } from '../src/index';
import { describeVitals, type Vitals } from './vitals';

/** A child process from TypeScript source (through tsx), or from a bundle (`.mjs`, plain node) as production runs the gateway. */
export function child(script: string, env: Record<string, string>, profile = false): ChildProcess {
  const execArgv = [
    ...(script.endsWith('.mjs') ? [] : ['--import', 'tsx']),
    ...(profile ? ['--cpu-prof', '--cpu-prof-dir=/tmp/gwprof'] : []),
    ...(process.env.BENCH_HEAP === '1' ? ['--expose-gc'] : []),
    ...(script.endsWith('.mjs')
      ? (process.env.BENCH_GATEWAY_NODE_FLAGS?.split(' ').filter(Boolean) ?? gatewayNodeFlags)
      : []),
  ];
  return fork(fileURLToPath(new URL(script, import.meta.url)), {
    execArgv,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
}

export async function message<T>(process: ChildProcess, type: string): Promise<T> {
  for (;;) {
    const [received] = (await once(process, 'message')) as [{ type: string } & T];
    if (received.type === type) return received;
  }
}

export interface PhaseResult {
  name: string;
  sent: number;
  ok: number;
  failed: number;
  achievedRps: number;
  p50: number;
  p99: number;
  /** The load generator's own event-loop delay: latency it adds to every figure, on both paths. */
  loopP99: number;
  loopMax: number;
}

export function percentile(sorted: number[], p: number): number {
  return sorted.length === 0
    ? 0
    : (sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number);
}

/** The simulator's own view (its engine clock): sums and counts of its latency histograms. */
async function simLatency(
  simUrl: string,
): Promise<{ e2eSum: number; e2eCount: number; ttftSum: number; ttftCount: number }> {
  const text = await (await fetch(`${simUrl}/metrics`)).text();
  const value = (name: string) =>
    text
      .split('\n')
      .filter((line) => line.startsWith(name))
      .reduce((sum, line) => sum + Number(line.split(' ').at(-1)), 0);
  return {
    e2eSum: value('vllm:e2e_request_latency_seconds_sum'),
    e2eCount: value('vllm:e2e_request_latency_seconds_count'),
    ttftSum: value('vllm:time_to_first_token_seconds_sum'),
    ttftCount: value('vllm:time_to_first_token_seconds_count'),
  };
}

export async function measuredOnSim<T>(simUrl: string, label: string, run: () => Promise<T>): Promise<T> {
  const before = await simLatency(simUrl);
  const result = await run();
  const after = await simLatency(simUrl);
  const mean = (sum: number, count: number) => (count === 0 ? 0 : (sum / count) * 1000);
  process.stdout.write(
    `${label}: the simulator saw mean TTFT ${mean(after.ttftSum - before.ttftSum, after.ttftCount - before.ttftCount).toFixed(2)} ms, mean end-to-end ${mean(after.e2eSum - before.e2eSum, after.e2eCount - before.e2eCount).toFixed(2)} ms\n`,
  );
  return result;
}

/** Runs a phase and prints the simulator's own event-loop delay and GC pauses during it. */
export async function withSimVitals<T>(sim: ChildProcess, label: string, run: () => Promise<T>): Promise<T> {
  sim.send({ type: 'reset' });
  await message(sim, 'reset');
  const result = await run();
  sim.send({ type: 'stats' });
  const vitals = await message<Vitals>(sim, 'stats');
  process.stdout.write(
    `${label}: the simulator's ${describeVitals(vitals)}, CPU ${(vitals.cpuMicros / 1000).toFixed(0)} ms\n`,
  );
  return result;
}
