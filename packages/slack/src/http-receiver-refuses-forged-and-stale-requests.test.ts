import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formBody, slackSignature } from './testing/index';
import { openSlackWorld, type SlackWorld } from './test-world';

describe('the HTTP receiver at /slack/events', () => {
  let world: SlackWorld;

  beforeAll(async () => {
    world = await openSlackWorld();
  });
  afterAll(async () => {
    await world.close();
  });

  const command = () =>
    formBody({ command: '/tokens', text: '', user_id: 'U0EMMA', team_id: 'T0TOKENWISE', response_url: `${world.slack.baseUrl}/response/R0FORGED`, trigger_id: '1.2.3' });

  it('listens on http://127.0.0.1:<port> with no path', () => {
    expect(world.bot.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  });

  it('refuses a request signed with another secret, and does nothing with it', async () => {
    const body = command();
    const timestampSeconds = Math.floor(Date.now() / 1000);
    const forged = await world.slack.postRaw(world.bot.url ?? '', {
      body,
      contentType: 'application/x-www-form-urlencoded',
      timestampSeconds,
      signature: slackSignature('not-the-signing-secret', timestampSeconds, body),
    });
    expect(forged.status).toBe(401);
    const unsigned = await world.slack.postRaw(world.bot.url ?? '', {
      body,
      contentType: 'application/x-www-form-urlencoded',
      signature: 'v0=',
    });
    expect(unsigned.status).toBe(401);
  });

  it('refuses a correctly signed request older than five minutes (a replay)', async () => {
    const stale = await world.slack.postRaw(world.bot.url ?? '', {
      body: command(),
      contentType: 'application/x-www-form-urlencoded',
      timestampSeconds: Math.floor(Date.now() / 1000) - 5 * 60 - 30,
    });
    expect(stale.status).toBe(401);
    expect(world.slack.responsesTo('R0FORGED')).toEqual([]);
    expect(world.slack.callsTo('users.info')).toEqual([]);
  });

  it('answers url_verification with the challenge', async () => {
    const reply = await world.slack.postRaw(world.bot.url ?? '', {
      body: JSON.stringify({ token: 'x', challenge: 'c-123', type: 'url_verification' }),
      contentType: 'application/json',
    });
    expect(reply.status).toBe(200);
    expect(reply.body).toContain('c-123');
  });

  it('acks a signed command within 3 s and answers through its response_url', async () => {
    const delivery = await world.sender.command({ userId: world.members.employee.id, command: '/tokens', text: 'help' });
    expect(delivery.status).toBe(200);
    expect(delivery.elapsedMs).toBeLessThan(3_000);
    const answer = await world.slack.waitForResponse(delivery.responseUrlId);
    expect(answer.body).toMatchObject({ response_type: 'ephemeral' });
    expect(String(answer.body.text)).toContain('/tokens key');
  });
});
