import { DefaultLogger, Runtime, type LogLevel } from '@temporalio/worker';

let installed = false;

/**
 * Sets the Temporal runtime's log level for this process (bundle stats and worker state changes
 * are INFO). Runtime.install may run once per process, so later calls are ignored.
 */
export function installTemporalRuntime(level: LogLevel = 'WARN'): void {
  if (installed) return;
  installed = true;
  try {
    Runtime.install({ logger: new DefaultLogger(level) });
  } catch {
    // The SDK already created its default runtime in this process; keep it.
  }
}
