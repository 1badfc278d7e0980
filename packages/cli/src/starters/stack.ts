import { freePort } from '@tokenwise/devtools';

/** Closes what was started, newest first, even when one step fails. */
export class Stack {
  private readonly closers: { name: string; close: () => Promise<unknown> }[] = [];
  push(name: string, close: () => Promise<unknown>): void {
    this.closers.push({ name, close });
  }
  /** Returns how many steps failed to stop. */
  async closeAll(): Promise<number> {
    let failures = 0;
    for (const { name, close } of this.closers.reverse()) {
      try {
        await close();
      } catch (error) {
        failures++;
        process.stderr.write(`Stopping ${name} failed: ${(error as Error).message}\n`);
      }
    }
    this.closers.length = 0;
    return failures;
  }
}

/** After everything was stopped, how long the process may take to end on its own. */
const exitAfterStopMsMax = 2_000;

/**
 * Ends the process with its exit code if something that failed to stop (a worker given up on)
 * still holds the event loop; an unref'd timer, so a process that ends on its own is not delayed.
 */
export function exitIfStuckAfterStop(): void {
  setTimeout(() => {
    process.stderr.write(`Something was still running ${exitAfterStopMsMax / 1000} s after stopping; exiting.\n`);
    process.exit();
  }, exitAfterStopMsMax).unref();
}

/** The port when it is free on loopback, else any free port (0 = any): for one machine, where a busy port is no error. */
export async function preferredPort(port: number): Promise<number> {
  if (port === 0) return freePort();
  const { createServer } = await import('node:net');
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once('error', () => resolve(freePort()));
    probe.listen(port, '127.0.0.1', () => probe.close(() => resolve(port)));
  });
}

export type Log = (line: string) => void;
