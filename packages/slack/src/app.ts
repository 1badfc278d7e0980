import { App, HTTPReceiver, SocketModeReceiver, webApi, type Receiver } from '@slack/bolt';
import { ConfigError } from '@tokenwise/core';
import { findOrgBySlug, findOrgSlug, type Db } from '@tokenwise/db';
import type { Ledger } from '@tokenwise/ledger';
import type { AddressInfo } from 'node:net';
import { checkAuthUntilOk, slackErrorCode } from './auth-check';
import { boltLogger } from './bolt-logger';
import { registerCommands } from './commands/index';
import type { SlackConfig } from './config';
import { callerFactory, type SlackContext, type SlackExtension } from './context';
import { registerHome } from './home/index';
import { createIdentityResolver } from './identity';

/** How long close() waits for a Socket Mode connection attempt to give up. */
const socketStopWaitMs = 1_000;

/** Where Slack sends commands, interactivity and events over HTTP. */
export const slackEventsPath = '/slack/events';

export interface SlackBotDeps {
  db: Db;
  ledger: Ledger;
  keyPepper: Buffer;
  /** The org the workspace is bound to, by slug (TOKENWISE_SLACK_ORG) or id. */
  org: { slug: string } | { id: string };
  config: SlackConfig;
  log: (line: string) => void;
  /** More handlers and background work (delivery, approvals), registered after the core's. */
  extensions?: SlackExtension[];
  carbonRaiseDeadlineMs?: number;
  /** auth.test retry backoff; tests shorten it. */
  authRetry?: { initialMs?: number; maxMs?: number };
  identityTtlMs?: number;
}

export interface RunningSlackBot {
  /** `http://host:port` (no path) for the HTTP receiver; null under Socket Mode. */
  url: string | null;
  /** The context handlers use (tests and extensions may inspect it). */
  ctx: SlackContext;
  close(): Promise<void>;
}

async function resolveOrg(db: Db, org: SlackBotDeps['org']): Promise<{ id: string; slug: string }> {
  if ('slug' in org) {
    const found = await findOrgBySlug(db, { slug: org.slug });
    if (found === undefined)
      throw new ConfigError(`TOKENWISE_SLACK_ORG: no org with slug "${org.slug}"; the workspace must be bound to one.`);
    return { id: found.id, slug: found.slug };
  }
  const slug = await findOrgSlug(db, { orgId: org.id });
  if (slug === undefined) throw new ConfigError(`The Slack bot's org ${org.id} does not exist.`);
  return { id: org.id, slug };
}

function hostForUrl(host: string): string {
  if (host === '0.0.0.0' || host === '::') return '127.0.0.1';
  return host.includes(':') ? `[${host}]` : host;
}

/**
 * Starts the Slack bot: Bolt over HTTP (`/slack/events`, signatures verified) or Socket Mode
 * (when SLACK_APP_TOKEN is set). Handlers ack at once and work after the ack, reading through the
 * API as the linked user. A failing auth.test is logged and retried, never thrown; a Socket Mode
 * connection that cannot open is retried in the background the same way.
 */
export async function startSlackBot(deps: SlackBotDeps): Promise<RunningSlackBot> {
  const { config, log } = deps;
  const org = await resolveOrg(deps.db, deps.org);
  const logger = boltLogger(log);
  const clientOptions: webApi.WebClientOptions = {
    ...(config.apiUrl === undefined ? {} : { slackApiUrl: config.apiUrl }),
    logger,
  };
  const client = new webApi.WebClient(config.botToken, clientOptions);
  // Its own client without the SDK's half-hour retries: the loop below paces auth.test itself.
  const authClient = new webApi.WebClient(config.botToken, { ...clientOptions, retryConfig: { retries: 0 } });
  const auth = checkAuthUntilOk({ client: authClient, log, ...deps.authRetry });

  const receiver: Receiver =
    config.transport.kind === 'http'
      ? new HTTPReceiver({
          signingSecret: config.transport.signingSecret,
          endpoints: slackEventsPath,
          logger,
          processBeforeResponse: false,
        })
      : new SocketModeReceiver({
          appToken: config.transport.appToken,
          logger,
          // No SDK retries inside one apps.connections.open: startSocket retries with its own backoff and can stop.
          installerOptions: {
            clientOptions: {
              ...(config.apiUrl === undefined ? {} : { slackApiUrl: config.apiUrl }),
              retryConfig: { retries: 0 },
            },
          },
        });
  const app = new App({
    receiver,
    logger,
    clientOptions,
    // The token is known; the bot's ids come from auth.test once it succeeds. Until then events
    // still work (ignoreSelf simply has no ids to compare).
    authorize: async () => {
      const bot = auth.identity();
      return { botToken: config.botToken, botId: bot?.botId, botUserId: bot?.botUserId, teamId: bot?.teamId };
    },
  });
  app.error(async (error) => {
    log(`slack: a handler failed: ${error.message}`);
  });

  const ctx: SlackContext = {
    db: deps.db,
    ledger: deps.ledger,
    keyPepper: deps.keyPepper,
    orgId: org.id,
    orgSlug: org.slug,
    config,
    client,
    clientOptions,
    identity: createIdentityResolver({ db: deps.db, client, orgId: org.id, ttlMs: deps.identityTtlMs }),
    callerFor: callerFactory(deps),
    bot: auth.identity,
    log,
    carbonRaiseDeadlineMs: deps.carbonRaiseDeadlineMs,
  };
  const stops: (() => Promise<void>)[] = [];
  for (const extension of [registerCommands, registerHome, ...(deps.extensions ?? [])]) {
    const stop = extension(app, ctx);
    if (stop !== undefined) stops.push(stop);
  }

  const started =
    config.transport.kind === 'http'
      ? await startHttp(receiver as HTTPReceiver, config)
      : startSocket(receiver as SocketModeReceiver, log, deps.authRetry);
  return {
    url: started.url,
    ctx,
    async close() {
      await auth.stop();
      for (const stop of stops.reverse()) await stop();
      await started.stop();
    },
  };
}

async function startHttp(receiver: HTTPReceiver, config: SlackConfig) {
  if (config.transport.kind !== 'http') throw new Error('unreachable: HTTP receiver without HTTP settings');
  const { port, host } = config.transport;
  const server = await receiver.start({ port, host });
  const address = server.address() as AddressInfo;
  return {
    url: `http://${hostForUrl(host)}:${address.port}`,
    async stop() {
      server.closeAllConnections();
      await receiver.stop();
    },
  };
}

/** Opens the Socket Mode connection in the background, retrying with backoff until it opens or the bot closes. */
function startSocket(receiver: SocketModeReceiver, log: (line: string) => void, retry: SlackBotDeps['authRetry']) {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let wake: (() => void) | undefined;
  const connecting = (async () => {
    let waitMs = retry?.initialMs ?? 1_000;
    while (!stopped) {
      try {
        await receiver.start();
        log('slack: Socket Mode connected');
        return;
      } catch (error) {
        if (stopped) return;
        log(`slack: Socket Mode connection failed (${slackErrorCode(error)}); retrying`);
      }
      await new Promise<void>((resolve) => {
        wake = resolve;
        timer = setTimeout(resolve, waitMs);
      });
      waitMs = Math.min(waitMs * 2, retry?.maxMs ?? 60_000);
    }
  })();
  return {
    url: null,
    async stop() {
      stopped = true;
      clearTimeout(timer);
      wake?.();
      // stop() rejects when the connection never opened; there is then nothing to close.
      await receiver.stop().catch((error: unknown) => log(`slack: Socket Mode stop: ${slackErrorCode(error)}`));
      // A start() parked in the SDK's own reconnect delay never settles once stopped: wait a bounded time.
      let bound: NodeJS.Timeout | undefined;
      await Promise.race([connecting, new Promise<void>((resolve) => (bound = setTimeout(resolve, socketStopWaitMs)))]);
      clearTimeout(bound);
    },
  };
}
