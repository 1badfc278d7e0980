import { freePort } from '../local/free-port';

/** Closes what was started, newest first, even when one step fails. */
export class Stack {
  private readonly closers: { name: string; close: () => Promise<unknown> }[] = [];
  push(name: string, close: () => Promise<unknown>): void {
    this.closers.push({ name, close });
  }
  async closeAll(): Promise<void> {
    for (const { name, close } of this.closers.reverse()) {
      try {
        await close();
      } catch (error) {
        process.stderr.write(`Stopping ${name} failed: ${(error as Error).message}\n`);
      }
    }
    this.closers.length = 0;
  }
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
