import { Context } from '@temporalio/activity';
import type { PluginContext } from '@tokenwise/plugin-sdk';

/** Heartbeats while a plugin runs, so a worker that dies is noticed in seconds, not at the start-to-close timeout. */
const heartbeatIntervalMs = 5_000;

/**
 * Runs a plugin inside the activity: heartbeats meanwhile, and ties the plugin's signal to the
 * activity's cancellation. A cancelled run (worker shutting down) is rethrown, so Temporal retries
 * it on another worker instead of recording the plugin as failed.
 */
export async function runWithHeartbeats<T>(base: PluginContext, run: (ctx: PluginContext) => Promise<T>): Promise<T> {
  let activity: Context | undefined;
  try {
    activity = Context.current();
  } catch {
    return run(base);
  }
  const current = activity;
  // A local activity has no heartbeat: its workflow task stands for it (and is retried if its worker dies).
  const timer = current.info.isLocal ? undefined : setInterval(() => current.heartbeat(), heartbeatIntervalMs);
  try {
    const result = await run({ ...base, signal: AbortSignal.any([base.signal, current.cancellationSignal]) });
    if (current.cancellationSignal.aborted) throw current.cancellationSignal.reason ?? new Error('activity cancelled');
    return result;
  } finally {
    clearInterval(timer);
  }
}
