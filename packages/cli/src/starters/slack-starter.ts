import { ConfigError } from '@tokenwise/core';
import {
  loadSlackConfig,
  startSlackBot,
  type RunningSlackBot,
  type SlackConfig,
  type SlackExtension,
} from '@tokenwise/slack';
import type { Services } from '../services';
import { preferredPort, type Log, type Stack } from './stack';

/** The one line `npm start` and `tokenwise slack` print when no Slack variable is set. */
export const slackOffLine =
  'Slack bot: off. To run it, set SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET (Slack calls http://<host>:<port>/slack/events) or SLACK_APP_TOKEN (Socket Mode, outbound only); the app manifest is packages/slack/manifest.yaml.';

/** What the bot will run with, its HTTP port settled (a busy preferred port gives a free one); null when it is off. */
export interface PlannedSlackBot {
  config: SlackConfig;
  /** `http://127.0.0.1:<port>` (no path) for the HTTP receiver; null under Socket Mode. */
  url: string | null;
}

/** Reads the Slack variables (errors name the variable to fix) and settles the HTTP port. */
export async function planSlackBot(env: NodeJS.ProcessEnv, gatewayPort: number): Promise<PlannedSlackBot | null> {
  const config = loadSlackConfig(env, { gatewayPort });
  if (config === null) return null;
  if (config.transport.kind !== 'http') return { config, url: null };
  const port = await preferredPort(config.transport.port);
  const host =
    config.transport.host === '0.0.0.0' || config.transport.host === '::' ? '127.0.0.1' : config.transport.host;
  return {
    config: { ...config, transport: { ...config.transport, port } },
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
  };
}

export interface SlackStarterOptions {
  services: Services;
  planned: PlannedSlackBot;
  /** The org when TOKENWISE_SLACK_ORG is not set (npm start: the demo org); without both, an error. */
  defaultOrgSlug?: string;
  extensions?: SlackExtension[];
  log: Log;
}

/** The Slack bot, bound to one org; its closer goes on the stack. */
export async function startSlackService(stack: Stack, options: SlackStarterOptions): Promise<RunningSlackBot> {
  const { services, planned, log } = options;
  const orgSlug = planned.config.orgSlug ?? options.defaultOrgSlug;
  if (orgSlug === undefined)
    throw new ConfigError(
      'TOKENWISE_SLACK_ORG: missing: set it to the slug of the org this Slack workspace belongs to (emails are unique per org).',
    );
  const bot = await startSlackBot({
    db: services.database.db,
    ledger: services.ledger,
    keyPepper: services.keyPepper,
    org: { slug: orgSlug },
    config: planned.config,
    extensions: options.extensions,
    log,
  });
  stack.push('Slack bot', () => bot.close());
  log(
    `Slack bot: ${bot.url === null ? 'Socket Mode (outbound connection)' : `${bot.url}/slack/events (HTTP, signatures verified)`}, bound to org ${orgSlug}.`,
  );
  return bot;
}
