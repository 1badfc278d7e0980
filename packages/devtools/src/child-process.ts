import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';

/** Tail of a child's output kept for error messages. */
const outputTailBytesMax = 16 * 1024;

export interface ManagedProcess {
  readonly child: ChildProcess;
  /** The last lines the process printed, for diagnosing a failed start. */
  output(): string;
  /** True once the process has exited. */
  exited(): boolean;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves when the process is gone. */
  stop(graceMs?: number): Promise<void>;
}

/** Spawns a long-running service process and keeps a bounded tail of its output. */
export function spawnManaged(command: string, args: readonly string[], options: SpawnOptions = {}): ManagedProcess {
  const child = spawn(command, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'] });
  let tail = '';
  let hasExited = false;
  const keep = (chunk: Buffer) => {
    tail = (tail + chunk.toString('utf8')).slice(-outputTailBytesMax);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exitedPromise = new Promise<void>((resolve) => {
    child.once('exit', () => {
      hasExited = true;
      resolve();
    });
    child.once('error', (error) => {
      tail += `\n${error.message}`;
      hasExited = true;
      resolve();
    });
  });
  return {
    child,
    output: () => tail,
    exited: () => hasExited,
    async stop(graceMs = 10_000) {
      if (hasExited) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exitedPromise;
      clearTimeout(timer);
    },
  };
}

/** Polls `probe` until it resolves true, the process dies, or `timeoutMs` passes. */
export async function waitUntilReady(
  what: string,
  process: ManagedProcess,
  probe: () => Promise<boolean>,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError = '';
  while (Date.now() < deadline) {
    if (process.exited()) throw new Error(`${what} exited during start-up:\n${process.output()}`);
    try {
      if (await probe()) return;
    } catch (error) {
      lastError = (error as Error).message;
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  await process.stop(2_000);
  throw new Error(`${what} was not ready after ${timeoutMs} ms (${lastError}):\n${process.output()}`);
}
