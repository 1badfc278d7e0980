import { ConfigError } from '@tokenwise/core';

/** GitHub settings from the environment; secrets live only there. */
export interface GithubConfig {
  /** GITHUB_OAUTH_CLIENT_ID: the OAuth app (device flow enabled) users prove their login with; unset: linking is off. */
  oauthClientId: string | undefined;
  /** TOKENWISE_GITHUB_URL: GitHub's web host, where OAuth runs (GitHub Enterprise Server: its host). */
  webUrl: string;
  /** TOKENWISE_GITHUB_API_URL: the REST API base. */
  apiUrl: string;
  /** GITHUB_WEBHOOK_SECRET: verifies `X-Hub-Signature-256`; unset: the webhook receiver answers 503. */
  webhookSecret: string | undefined;
}

const clientIdPattern = /^[A-Za-z0-9._-]{1,100}$/;
/** GitHub allows any webhook secret; one this short is guessable. */
const webhookSecretCharsMin = 16;

function nonEmpty(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const value = env[name]?.trim();
  return value === undefined || value.length === 0 ? undefined : value;
}

function baseUrl(env: NodeJS.ProcessEnv, name: string, fallback: string, example: string): string {
  const raw = nonEmpty(env, name) ?? fallback;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError(`${name}: must be a base URL, e.g. ${example}, got "${raw}".`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new ConfigError(`${name}: must be an http:// or https:// URL, e.g. ${example}.`);
  return raw.replace(/\/+$/, '');
}

/** Reads the GitHub settings; a malformed value is a ConfigError naming the variable and what to set. */
export function githubConfigFromEnv(env: NodeJS.ProcessEnv): GithubConfig {
  const oauthClientId = nonEmpty(env, 'GITHUB_OAUTH_CLIENT_ID');
  if (oauthClientId !== undefined && !clientIdPattern.test(oauthClientId))
    throw new ConfigError(
      'GITHUB_OAUTH_CLIENT_ID: must be the client id of a GitHub OAuth or GitHub App, e.g. Iv1.8a61f9b3a7aba766.',
    );
  const webhookSecret = nonEmpty(env, 'GITHUB_WEBHOOK_SECRET');
  if (webhookSecret !== undefined && webhookSecret.length < webhookSecretCharsMin)
    throw new ConfigError(
      `GITHUB_WEBHOOK_SECRET: must be at least ${webhookSecretCharsMin} characters (e.g. openssl rand -hex 32), the same as the webhook's secret on GitHub.`,
    );
  return {
    oauthClientId,
    webUrl: baseUrl(env, 'TOKENWISE_GITHUB_URL', 'https://github.com', 'https://github.example.com'),
    apiUrl: baseUrl(env, 'TOKENWISE_GITHUB_API_URL', 'https://api.github.com', 'https://github.example.com/api/v3'),
    webhookSecret,
  };
}
