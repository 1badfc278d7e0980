// The CPU a PostgreSQL server spent, all its processes together, read from /proc (Linux), so that
// bench:gateway can say what each request cost the database as well as the gateway.
import { readdirSync, readFileSync } from 'node:fs';

/** Linux reports process times in clock ticks of 1/100 s (USER_HZ) on every architecture Node runs on. */
const microsPerTick = 10_000;

interface ProcStat {
  ppid: number;
  /** utime + stime: the process's own CPU. */
  own: number;
  /** cutime + cstime: the CPU of its children that exited and were waited for. */
  reaped: number;
}

function procStat(pid: number): ProcStat | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // Fields after the command name, which is in parentheses and may contain spaces.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  const number = (index: number) => Number(fields[index - 3]);
  return { ppid: number(4), own: number(14) + number(15), reaped: number(16) + number(17) };
}

/**
 * A reader of the server's CPU in µs: the postmaster's own and its reaped children's (autovacuum
 * workers, ended backends), plus every child still running. Undefined where /proc cannot be read.
 */
export function serverCpuReader(postmasterPid: number): (() => number) | undefined {
  if (procStat(postmasterPid) === undefined) return undefined;
  return () => {
    const postmaster = procStat(postmasterPid);
    if (postmaster === undefined) return 0;
    let ticks = postmaster.own + postmaster.reaped;
    for (const entry of readdirSync('/proc')) {
      const pid = Number(entry);
      if (!Number.isInteger(pid) || pid === postmasterPid) continue;
      const stat = procStat(pid);
      if (stat?.ppid === postmasterPid) ticks += stat.own;
    }
    return ticks * microsPerTick;
  };
}

/** The postmaster of the backend at the other end of a connection: that backend's parent. */
export function postmasterOf(backendPid: number): number | undefined {
  return procStat(backendPid)?.ppid;
}
