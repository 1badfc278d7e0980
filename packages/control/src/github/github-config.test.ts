import { ConfigError } from '@tokenwise/core';
import { describe, expect, it } from 'vitest';
import { githubConfigFromEnv } from './github-config';

describe('githubConfigFromEnv', () => {
  it('defaults to github.com with linking and webhooks off', () => {
    expect(githubConfigFromEnv({})).toEqual({
      oauthClientId: undefined,
      webUrl: 'https://github.com',
      apiUrl: 'https://api.github.com',
      webhookSecret: undefined,
    });
  });

  it('reads GitHub Enterprise Server URLs without a trailing slash', () => {
    const config = githubConfigFromEnv({
      GITHUB_OAUTH_CLIENT_ID: 'Iv1.8a61f9b3a7aba766',
      TOKENWISE_GITHUB_URL: 'https://ghe.example.com/',
      TOKENWISE_GITHUB_API_URL: 'https://ghe.example.com/api/v3',
      GITHUB_WEBHOOK_SECRET: 'a'.repeat(32),
    });
    expect(config).toMatchObject({ webUrl: 'https://ghe.example.com', apiUrl: 'https://ghe.example.com/api/v3' });
  });

  it('refuses a short webhook secret, a malformed client id or URL, naming the variable and never the value', () => {
    const secret = 'short-secret';
    const error = (() => {
      try {
        githubConfigFromEnv({ GITHUB_WEBHOOK_SECRET: secret });
      } catch (caught) {
        return caught as Error;
      }
    })();
    expect(error).toBeInstanceOf(ConfigError);
    expect(error?.message).toMatch(/^GITHUB_WEBHOOK_SECRET/);
    expect(error?.message).not.toContain(secret);
    expect(() => githubConfigFromEnv({ GITHUB_OAUTH_CLIENT_ID: 'a b' })).toThrow(/GITHUB_OAUTH_CLIENT_ID/);
    expect(() => githubConfigFromEnv({ TOKENWISE_GITHUB_URL: 'ftp://x' })).toThrow(/TOKENWISE_GITHUB_URL/);
    expect(() => githubConfigFromEnv({ TOKENWISE_GITHUB_API_URL: 'not a url' })).toThrow(/TOKENWISE_GITHUB_API_URL/);
  });
});
