import { ConfigError } from '@tokenwise/core';

/** How the bot reaches Slack: an HTTP endpoint Slack calls, or an outbound Socket Mode connection. */
export type SlackTransport =
  { kind: 'http'; signingSecret: string; port: number; host: string } | { kind: 'socket'; appToken: string };

export interface SlackConfig {
  botToken: string;
  transport: SlackTransport;
  /** The Web API base (SLACK_API_URL), passed unchanged as the client's `slackApiUrl`; undefined: Slack's own. */
  apiUrl: string | undefined;
  /** The org this workspace is bound to (TOKENWISE_SLACK_ORG); undefined lets the caller choose (npm start: the demo org). */
  orgSlug: string | undefined;
}

const orgSlugPattern = /^[a-z0-9][a-z0-9-]{0,62}$/;
const hostPattern = /^(?:[A-Za-z0-9.-]+|[0-9A-Fa-f:]+)$/;

function nonEmpty(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const value = env[name]?.trim();
  return value === undefined || value.length === 0 ? undefined : value;
}

function portOf(env: NodeJS.ProcessEnv, gatewayPort: number): number {
  const raw = nonEmpty(env, 'TOKENWISE_SLACK_PORT');
  if (raw === undefined) return gatewayPort === 0 ? 0 : gatewayPort + 2;
  const port = Number(raw);
  if (!/^\d{1,5}$/.test(raw) || port > 65_535)
    throw new ConfigError(`TOKENWISE_SLACK_PORT: must be a port number 0..65535 (0 = any free port), got "${raw}".`);
  return port;
}

function apiUrlOf(env: NodeJS.ProcessEnv): string | undefined {
  const raw = nonEmpty(env, 'SLACK_API_URL');
  if (raw === undefined) return undefined;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError(`SLACK_API_URL: must be the Web API base URL, e.g. https://slack.com/api/, got "${raw}".`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new ConfigError(`SLACK_API_URL: must be an http:// or https:// URL, e.g. https://slack.com/api/.`);
  return raw;
}

/**
 * The bot's settings from the environment (secrets live only there), or null when the bot is off
 * (no SLACK_BOT_TOKEN and no other Slack variable). A half-configured bot is an error naming the
 * missing variable. `gatewayPort` gives the default port: the gateway's + 2.
 */
export function loadSlackConfig(env: NodeJS.ProcessEnv, options: { gatewayPort: number }): SlackConfig | null {
  const botToken = nonEmpty(env, 'SLACK_BOT_TOKEN');
  const signingSecret = nonEmpty(env, 'SLACK_SIGNING_SECRET');
  const appToken = nonEmpty(env, 'SLACK_APP_TOKEN');
  if (botToken === undefined) {
    if (signingSecret === undefined && appToken === undefined) return null;
    throw new ConfigError(
      `SLACK_BOT_TOKEN: missing, while ${appToken === undefined ? 'SLACK_SIGNING_SECRET' : 'SLACK_APP_TOKEN'} is set: set the bot token (xoxb-...) from the app's "OAuth & Permissions" page.`,
    );
  }
  const orgSlug = nonEmpty(env, 'TOKENWISE_SLACK_ORG');
  if (orgSlug !== undefined && !orgSlugPattern.test(orgSlug))
    throw new ConfigError(`TOKENWISE_SLACK_ORG: must be an org slug (a-z, 0-9, -), got "${orgSlug}".`);
  const apiUrl = apiUrlOf(env);
  if (appToken !== undefined) return { botToken, transport: { kind: 'socket', appToken }, apiUrl, orgSlug };
  if (signingSecret === undefined)
    throw new ConfigError(
      'SLACK_SIGNING_SECRET: missing: set it from the app\'s "Basic Information" page to receive requests over HTTP, or set SLACK_APP_TOKEN (xapp-...) to use Socket Mode.',
    );
  const host = nonEmpty(env, 'TOKENWISE_SLACK_HOST') ?? '127.0.0.1';
  if (!hostPattern.test(host))
    throw new ConfigError(`TOKENWISE_SLACK_HOST: must be an IP address or host name to listen on, got "${host}".`);
  return {
    botToken,
    transport: { kind: 'http', signingSecret, port: portOf(env, options.gatewayPort), host },
    apiUrl,
    orgSlug,
  };
}
