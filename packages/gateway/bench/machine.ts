// How fast the machine itself was while bench:gateway ran. On a shared virtual machine the same code
// runs 15-20% slower within an hour, and whether a path meets the bar follows that; these figures
// let two runs be compared on the machine they had, not only on what they measured.
//
// They cover arithmetic, not the kernel. The gateway's work is mostly socket writes and reads, and
// those the machine makes dearer on its own: a 64-byte loopback TCP round trip between two sockets
// of one idle process took 23-47 µs from one 15 ms sample to the next (12.7-18.6 µs from Python's
// blocking sockets), and the commit that met the bar on 2026-11-26 (5d27377) took 1,450 µs of
// gateway CPU a request in a full run and 1,500-1,664 µs in streams-only runs on 2026-12-07,
// against 940-1,015 and 1,253-1,327 µs then. A kernel gauge taken before a phase would not
// describe the phase, so none is printed: to tell the machine from the code, run the older commit
// in the same hour (a git worktree, npm ci, npm run build, the same bench).
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';

const block = Buffer.alloc(16_384, 7);

/**
 * A fixed single-threaded workload, in ms: SHA-256 over 9.8 MB, native code that allocates almost
 * nothing, so the bench process's own heap cannot slow it. The least of five runs: the CPU the
 * machine gives one thread, not a stray interruption.
 */
export function fixedWorkloadMs(): number {
  let best = Number.POSITIVE_INFINITY;
  for (let round = 0; round < 5; round++) {
    const started = performance.now();
    const hash = createHash('sha256');
    for (let index = 0; index < 600; index++) hash.update(block);
    hash.digest();
    best = Math.min(best, performance.now() - started);
  }
  return best;
}

export interface BoxTimes {
  /** Jiffies with a CPU busy, in all modes but steal. */
  busy: number;
  /** Jiffies the hypervisor gave a CPU of this machine to someone else. */
  steal: number;
  total: number;
}

/** The whole machine's CPU times from /proc/stat (Linux), or undefined. */
export function boxTimes(): BoxTimes | undefined {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0] ?? '';
    const [, ...fields] = line.trim().split(/\s+/);
    const [user, nice, system, idle, iowait, irq, softirq, steal] = fields.map(Number);
    if (steal === undefined || Number.isNaN(steal)) return undefined;
    const busy = (user ?? 0) + (nice ?? 0) + (system ?? 0) + (irq ?? 0) + (softirq ?? 0);
    return { busy, steal, total: busy + steal + (idle ?? 0) + (iowait ?? 0) };
  } catch {
    return undefined;
  }
}

/** The shares of the machine's CPU time between two readings that were busy and that the hypervisor took, in percent. */
export function boxShares(
  before: BoxTimes | undefined,
  after: BoxTimes | undefined,
): { busyPercent: number; stealPercent: number } | undefined {
  if (before === undefined || after === undefined) return undefined;
  const total = Math.max(after.total - before.total, 1);
  return {
    busyPercent: (100 * (after.busy - before.busy)) / total,
    stealPercent: (100 * (after.steal - before.steal)) / total,
  };
}
