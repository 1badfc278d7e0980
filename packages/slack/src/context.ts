import type { App, webApi } from '@slack/bolt';
import { createCaller, createContextInner, type ApiUser } from '@tokenwise/api';
import type { Db } from '@tokenwise/db';
import type { Ledger } from '@tokenwise/ledger';
import type { BotIdentity } from './auth-check';
import type { SlackConfig } from './config';
import type { IdentityResolver } from './identity';

/** The tRPC API as one user sees it: the same procedures, the same visibility. */
export type ApiCaller = ReturnType<typeof createCaller>;

/** What every handler of the bot (commands, Home, delivery, approvals) works with. */
export interface SlackContext {
  db: Db;
  ledger: Ledger;
  keyPepper: Buffer;
  /** The org this workspace is bound to. */
  orgId: string;
  orgSlug: string;
  config: SlackConfig;
  /** A Web API client with the bot token, pointed at SLACK_API_URL. */
  client: webApi.WebClient;
  /** The options that client was made with (a loop that paces itself may want its own client). */
  clientOptions: webApi.WebClientOptions;
  identity: IdentityResolver;
  /** The API called in-process as `user`: nothing the API would not show them. */
  callerFor(user: ApiUser): Promise<ApiCaller>;
  /** The bot's Slack identity once auth.test succeeded; undefined before. */
  bot(): BotIdentity | undefined;
  log: (line: string) => void;
  carbonRaiseDeadlineMs?: number;
}

/**
 * Adds handlers (app.action, app.view, ...) and background work to the bot. Called once before
 * the bot starts; may return a stop function, awaited on close (before the receiver stops).
 */
export type SlackExtension = (app: App, ctx: SlackContext) => void | (() => Promise<void>);

/** The caller factory behind `ctx.callerFor`: an in-process context with no API key (keyId null). */
export function callerFactory(deps: {
  db: Db;
  ledger: Ledger;
  keyPepper: Buffer;
  carbonRaiseDeadlineMs?: number;
}): (user: ApiUser) => Promise<ApiCaller> {
  return async (user) =>
    createCaller(
      await createContextInner({
        db: deps.db,
        ledger: deps.ledger,
        keyPepper: deps.keyPepper,
        carbonRaiseDeadlineMs: deps.carbonRaiseDeadlineMs,
        user,
        // Slack linked them by verified email: they may create their own inference key (keys.create).
        selfServiceKeys: true,
      }),
    );
}
