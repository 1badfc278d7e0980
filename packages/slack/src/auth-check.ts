import type { webApi } from '@slack/bolt';

/** The bot's identity, as `auth.test` reports it. */
export interface BotIdentity {
  botUserId: string | undefined;
  botId: string | undefined;
  teamId: string | undefined;
}

/** Slack's error code (`invalid_auth`), else the error's message; never a token (the SDK's messages carry none). */
export function slackErrorCode(error: unknown): string {
  if (typeof error !== 'object' || error === null) return String(error);
  const data = (error as { data?: { error?: unknown } }).data;
  if (typeof data?.error === 'string') return data.error;
  return error instanceof Error ? error.message : String(error);
}

export const authRetryInitialMsDefault = 1_000;
export const authRetryMaxMsDefault = 60_000;

/**
 * Calls `auth.test` until it succeeds, doubling the wait from `initialMs` up to `maxMs`; each
 * failure is logged (the error code, never the token). Never throws: a wrong token or an outage
 * must not stop the services around the bot. `stop()` ends the loop.
 */
export function checkAuthUntilOk(deps: {
  client: webApi.WebClient;
  log: (line: string) => void;
  initialMs?: number;
  maxMs?: number;
}) {
  let identity: BotIdentity | undefined;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let wake: (() => void) | undefined;
  const initialMs = deps.initialMs ?? authRetryInitialMsDefault;
  const maxMs = deps.maxMs ?? authRetryMaxMsDefault;

  async function attempt(): Promise<boolean> {
    try {
      const result = await deps.client.auth.test();
      identity = { botUserId: result.user_id, botId: result.bot_id, teamId: result.team_id };
      deps.log(`slack: signed in to workspace ${result.team ?? result.team_id ?? '?'} as ${result.user ?? '?'}`);
      return true;
    } catch (error) {
      deps.log(`slack: auth.test failed (${slackErrorCode(error)}); retrying`);
      return false;
    }
  }

  const done = (async () => {
    let waitMs = initialMs;
    while (!stopped && !(await attempt())) {
      await new Promise<void>((resolve) => {
        wake = resolve;
        timer = setTimeout(resolve, waitMs);
      });
      waitMs = Math.min(waitMs * 2, maxMs);
    }
  })();

  return {
    /** The identity once auth.test succeeded; undefined until then. */
    identity: () => identity,
    /** Resolves when auth.test succeeded or the loop was stopped. */
    done,
    async stop(): Promise<void> {
      stopped = true;
      clearTimeout(timer);
      wake?.();
      await done;
    },
  };
}
