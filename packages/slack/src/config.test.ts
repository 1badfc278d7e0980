import { describe, expect, it } from 'vitest';
import { loadSlackConfig } from './config';

const gateway = { gatewayPort: 4000 };

describe('Slack configuration from the environment', () => {
  it('is off (null) when no Slack variable is set', () => {
    expect(loadSlackConfig({}, gateway)).toBeNull();
  });

  it('runs the HTTP receiver with bot token and signing secret, on the gateway port + 2 by default', () => {
    const config = loadSlackConfig(
      { SLACK_BOT_TOKEN: 'xoxb-1', SLACK_SIGNING_SECRET: 's', SLACK_API_URL: 'http://127.0.0.1:9/api/' },
      gateway,
    );
    expect(config).toEqual({
      botToken: 'xoxb-1',
      transport: { kind: 'http', signingSecret: 's', port: 4002, host: '127.0.0.1' },
      apiUrl: 'http://127.0.0.1:9/api/',
      orgSlug: undefined,
    });
    expect(
      loadSlackConfig({ SLACK_BOT_TOKEN: 'x', SLACK_SIGNING_SECRET: 's' }, { gatewayPort: 0 })?.transport,
    ).toMatchObject({ port: 0 });
    expect(
      loadSlackConfig(
        { SLACK_BOT_TOKEN: 'x', SLACK_SIGNING_SECRET: 's', TOKENWISE_SLACK_PORT: '4100', TOKENWISE_SLACK_ORG: 'acme' },
        gateway,
      ),
    ).toMatchObject({ transport: { port: 4100 }, orgSlug: 'acme' });
  });

  it('uses Socket Mode when SLACK_APP_TOKEN is set, even with a signing secret', () => {
    const config = loadSlackConfig(
      { SLACK_BOT_TOKEN: 'xoxb-1', SLACK_SIGNING_SECRET: 's', SLACK_APP_TOKEN: 'xapp-1' },
      gateway,
    );
    expect(config?.transport).toEqual({ kind: 'socket', appToken: 'xapp-1' });
  });

  it('names the missing or malformed variable, and never echoes a secret', () => {
    expect(() => loadSlackConfig({ SLACK_SIGNING_SECRET: 'topsecret' }, gateway)).toThrow(/SLACK_BOT_TOKEN/);
    expect(() => loadSlackConfig({ SLACK_BOT_TOKEN: 'xoxb-topsecret' }, gateway)).toThrow(
      /SLACK_SIGNING_SECRET.*SLACK_APP_TOKEN/,
    );
    expect(() =>
      loadSlackConfig({ SLACK_BOT_TOKEN: 'x', SLACK_SIGNING_SECRET: 's', TOKENWISE_SLACK_PORT: '70000' }, gateway),
    ).toThrow(/TOKENWISE_SLACK_PORT/);
    expect(() =>
      loadSlackConfig({ SLACK_BOT_TOKEN: 'x', SLACK_SIGNING_SECRET: 's', SLACK_API_URL: 'slack.com' }, gateway),
    ).toThrow(/SLACK_API_URL/);
    expect(() =>
      loadSlackConfig({ SLACK_BOT_TOKEN: 'x', SLACK_SIGNING_SECRET: 's', TOKENWISE_SLACK_ORG: 'Not A Slug' }, gateway),
    ).toThrow(/TOKENWISE_SLACK_ORG/);
    try {
      loadSlackConfig({ SLACK_BOT_TOKEN: 'xoxb-topsecret' }, gateway);
    } catch (error) {
      expect((error as Error).message).not.toContain('topsecret');
    }
  });
});
