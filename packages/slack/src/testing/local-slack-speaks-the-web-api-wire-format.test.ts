import { webApi } from '@slack/bolt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalSlack, type LocalSlack } from './index';

/** The real @slack/web-api client against the local Slack: what the bot's client will meet. */
describe('the local Slack Web API', () => {
  let slack: LocalSlack;
  let client: webApi.WebClient;

  beforeAll(async () => {
    slack = await startLocalSlack();
    slack.addMember({ id: 'U0EMMA', name: 'emma', realName: 'Emma', email: 'emma@acme.test' });
    client = new webApi.WebClient(slack.botToken, {
      slackApiUrl: slack.apiUrl,
      retryConfig: { retries: 2, minTimeout: 10, maxTimeout: 10 },
    });
  });
  afterAll(async () => {
    await slack.close();
  });

  it('answers auth.test and users.info with the profile email, and refuses a wrong token', async () => {
    expect(await client.auth.test()).toMatchObject({ ok: true, user_id: 'U0BOT', team_id: 'T0TOKENWISE' });
    const info = await client.users.info({ user: 'U0EMMA' });
    expect(info.user?.profile?.email).toBe('emma@acme.test');
    await expect(client.users.info({ user: 'U0NOBODY' })).rejects.toMatchObject({ data: { error: 'user_not_found' } });
    const stranger = new webApi.WebClient('xoxb-wrong', { slackApiUrl: slack.apiUrl });
    await expect(stranger.auth.test()).rejects.toMatchObject({ data: { ok: false, error: 'invalid_auth' } });
  });

  it('posts, updates and records messages; refuses more than 50 blocks as Slack does', async () => {
    const { channel } = await client.conversations.open({ users: 'U0EMMA' });
    const posted = await client.chat.postMessage({ channel: channel?.id ?? '', text: 'hello' });
    await client.chat.update({ channel: posted.channel ?? '', ts: posted.ts ?? '', text: 'decided' });
    expect(slack.messages().find((message) => message.ts === posted.ts)).toMatchObject({ text: 'decided', updates: 1 });
    const blocks = Array.from({ length: 51 }, () => ({ type: 'divider' }));
    await expect(client.chat.postMessage({ channel: 'U0EMMA', text: 'x', blocks })).rejects.toMatchObject({
      data: { error: 'invalid_blocks' },
    });
    expect(slack.callsTo('chat.postMessage').at(-1)?.args.text).toBe('x');
  });

  it('answers 429 with Retry-After, which the client waits out before retrying', async () => {
    slack.rateLimit('chat.postMessage', 1, 1);
    const startedMs = Date.now();
    await client.chat.postMessage({ channel: 'U0EMMA', text: 'after the limit' });
    expect(Date.now() - startedMs).toBeGreaterThanOrEqual(1_000);
    expect(
      slack
        .callsTo('chat.postMessage')
        .slice(-2)
        .map((call) => call.outcome),
    ).toEqual(['ratelimited', 'ok']);
  });

  it('fails auth.test as often as asked, then answers again', async () => {
    slack.failAuthTest(2);
    await expect(client.auth.test()).rejects.toMatchObject({ data: { error: 'service_unavailable' } });
    await expect(client.auth.test()).rejects.toMatchObject({ data: { error: 'service_unavailable' } });
    expect(await client.auth.test()).toMatchObject({ ok: true });
  });
});
