import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { insertUsage, openSlackWorld, type SlackWorld } from './test-world';

describe('the bot over Socket Mode (SLACK_APP_TOKEN set)', () => {
  let world: SlackWorld;
  let request: string;

  beforeAll(async () => {
    world = await openSlackWorld({
      transport: 'socket',
      beforeBot: (slack) => {
        slack.failAuthTest(2);
        slack.failNext('apps.connections.open', { kind: 'http', status: 503 });
      },
    });
    request = await insertUsage(world.db, { user: world.users.employee, score: 0.6 });
  });
  afterAll(async () => {
    await world.close();
  });

  it('opens the connection with the app token, after retrying a failed apps.connections.open, and has no HTTP URL', async () => {
    await world.slack.waitForSocket();
    expect(world.bot.url).toBeNull();
    const opens = world.slack.callsTo('apps.connections.open');
    expect(opens.map((call) => call.outcome)).toEqual(['http_503', 'ok']);
    expect(opens.at(-1)?.token).toBe(world.slack.appToken);
    expect(world.logs.some((line) => line.includes('Socket Mode connection failed'))).toBe(true);
  });

  it('acks a command envelope and answers through its response_url', async () => {
    const delivery = await world.sender.command({ userId: world.members.employee.id, command: '/tokens' });
    expect(delivery.elapsedMs).toBeLessThan(3_000);
    const answer = await world.slack.waitForResponse(delivery.responseUrlId);
    expect(JSON.stringify(answer.body)).toContain(request);
  });

  it('logged the failing auth.test, retried it and signed in without stopping', async () => {
    await world.slack.waitFor(() => world.bot.ctx.bot(), 'successful auth.test');
    expect(world.logs.filter((line) => line.includes('auth.test failed (service_unavailable)'))).toHaveLength(2);
    expect(world.slack.callsTo('auth.test').map((call) => call.outcome)).toEqual([
      'service_unavailable',
      'service_unavailable',
      'ok',
    ]);
    expect(world.logs.join('\n')).not.toContain(world.slack.botToken);
  });
});
