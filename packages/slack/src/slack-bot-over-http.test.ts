import { createKeyStore } from '@tokenwise/control';
import { isSettlementMuted, setUserRoles } from '@tokenwise/db';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appHomeOpenedEvent, formBody, slackSignature } from './testing/index';
import { insertUsage, openSlackWorld, type SlackWorld } from './test-world';

/** Everything a message or view showed, as one string. */
function shown(body: unknown): string {
  return JSON.stringify(body);
}

// One world for the file (PGlite, the local Slack, the bot over HTTP): the receiver, the commands
// and the App Home, each answered as the linked user.
describe('the Slack bot over HTTP', () => {
  let world: SlackWorld;
  let ownRequest: string;
  let colleagueRequest: string;

  beforeAll(async () => {
    world = await openSlackWorld();
    ownRequest = await insertUsage(world.db, {
      user: world.users.employee,
      score: 0.8,
      rationale: 'Landed in PR #42.',
    });
    colleagueRequest = await insertUsage(world.db, { user: world.users.colleague, score: 0.3 });
    const admin = await world.as(world.users.admin);
    await admin.grants.allowance({ ownerType: 'user', ownerId: world.users.employee.id, amount: 5_000_000n });
  });
  afterAll(async () => {
    await world.close();
  });

  async function run(member: { id: string }, command: string, text = '') {
    const delivery = await world.sender.command({ userId: member.id, command, text });
    expect(delivery.status).toBe(200);
    expect(delivery.elapsedMs).toBeLessThan(3_000);
    const answer = await world.slack.waitForResponse(delivery.responseUrlId);
    expect(answer.body.response_type).toBe('ephemeral');
    return answer.body;
  }

  async function openHome(member: { id: string }) {
    const before = world.slack.views().length;
    const delivery = await world.sender.event(appHomeOpenedEvent(member.id));
    expect(delivery.status).toBe(200);
    return world.slack.waitFor(
      () =>
        world.slack
          .views()
          .slice(before)
          .find((view) => view.kind === 'home' && view.userId === member.id),
      `Home of ${member.id}`,
    );
  }

  describe('the receiver at /slack/events', () => {
    const command = () =>
      formBody({
        command: '/tokens',
        text: '',
        user_id: 'U0EMMA',
        team_id: 'T0TOKENWISE',
        response_url: `${world.slack.baseUrl}/response/R0FORGED`,
        trigger_id: '1.2.3',
      });

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
      const delivery = await world.sender.command({
        userId: world.members.employee.id,
        command: '/tokens',
        text: 'help',
      });
      expect(delivery.status).toBe(200);
      expect(delivery.elapsedMs).toBeLessThan(3_000);
      const answer = await world.slack.waitForResponse(delivery.responseUrlId);
      expect(answer.body).toMatchObject({ response_type: 'ephemeral' });
      expect(String(answer.body.text)).toContain('/tokens key');
    });
  });

  describe('slash commands, answered through response_url', () => {
    it('/tokens shows the wallet, this month and the latest requests with cost, CO2e, score and refund', async () => {
      const body = await run(world.members.employee, '/tokens');
      const text = shown(body);
      expect(text).toContain('5 innovation available');
      expect(text).toContain(ownRequest);
      expect(text).toContain('value 80%');
      expect(text).toContain('refund 0.25 innovation');
      expect(text).toContain('1.5 g CO2e');
      expect(text).toContain('This month: 1 request, 1 innovation spent');
    });

    it("an employee's /tokens never shows another user's requests", async () => {
      const text = shown(await run(world.members.employee, '/tokens'));
      expect(text).not.toContain(colleagueRequest);
      const theirs = shown(await run(world.members.colleague, '/tokens'));
      expect(theirs).toContain(colleagueRequest);
      expect(theirs).not.toContain(ownRequest);
    });

    it('/tokens scores shows each plugin with its rationale', async () => {
      const text = shown(await run(world.members.employee, '/tokens', 'scores'));
      expect(text).toContain('llm-judge');
      expect(text).toContain('Landed in PR #42.');
    });

    it('/tokens key creates an inference key, shows it once, and the key authenticates', async () => {
      const body = await run(world.members.employee, '/tokens', 'key');
      const secret = /tw_[A-Za-z0-9_-]+/.exec(shown(body))?.[0];
      expect(secret).toBeDefined();
      const keys = createKeyStore({ db: world.db, pepper: world.keyPepper });
      try {
        const principal = await keys.authenticate(`Bearer ${secret}`);
        expect(principal).toMatchObject({ userId: world.users.employee.id, scopes: ['inference'] });
      } finally {
        keys.close();
      }
      // Shown only in that ephemeral answer: never posted to a channel, never logged.
      expect(JSON.stringify(world.slack.messages())).not.toContain(secret);
      expect(world.logs.join('\n')).not.toContain(secret);
    });

    it('an unknown subcommand gets the help text', async () => {
      const text = shown(await run(world.members.employee, '/tokens', 'balance please'));
      expect(text).toContain("I don't know");
      expect(text).toContain('/tokens scores');
      expect(text).toContain('/carbon');
    });

    it('a Slack member with no Tokenwise user is told whom to ask, and sees no data', async () => {
      const body = await run(world.members.noEmail, '/tokens');
      expect(shown(body)).toContain('Ada Admin (ada@acme.test)');
    });

    it("a user of ANOTHER org with the member's email is not matched: the workspace is bound to one org", async () => {
      const body = await run(world.members.stranger, '/tokens');
      const text = shown(body);
      expect(text).toContain('No Tokenwise user has the email gus@globex.test');
      expect(text).toContain('Ada Admin');
      expect(text).not.toContain('available');
    });

    it('/carbon shows use against the caps and a button that opens the raise form; submitting it files a raise', async () => {
      const esg = await world.as(world.users.esg);
      await esg.carbon.setCap({ scope: 'user', userId: world.users.employee.id, period: 'month', hardGrams: 100 });
      await esg.carbon.setCap({ scope: 'org', period: 'month', hardGrams: 10_000 });
      const body = await run(world.members.employee, '/carbon');
      const text = shown(body);
      expect(text).toContain('of 100 g used');
      expect(text).toContain('of 10,000 g used');
      expect(text).toContain('carbon_raise_request');

      const click = await world.sender.action({
        userId: world.members.employee.id,
        actionId: 'carbon_raise_request',
        value: 'raise',
        message: { channel: 'C0GENERAL', ts: '1.000001', ephemeral: true },
      });
      expect(click.status).toBe(200);
      const modal = await world.slack.waitFor(
        () => world.slack.views().find((view) => view.kind === 'modal' && view.userId === world.members.employee.id),
        'raise modal',
      );
      expect(modal.view.callback_id).toBe('carbon_raise_submit');

      const submit = await world.sender.viewSubmission({
        userId: world.members.employee.id,
        callbackId: 'carbon_raise_submit',
        privateMetadata: String(modal.view.private_metadata),
        values: {
          raise_scope: {
            scope: {
              type: 'static_select',
              selected_option: { value: 'user', text: { type: 'plain_text', text: 'My own budget' } },
            },
          },
          raise_grams: { grams: { type: 'number_input', value: '25' } },
          raise_reason: { reason: { type: 'plain_text_input', value: 'Quarter-end evaluation runs.' } },
        },
      });
      expect(submit.status).toBe(200);
      const told = await world.slack.waitForResponse(click.responseUrlId ?? '');
      expect(String(told.body.text)).toContain('Asked to raise your carbon cap by 25 g');
      const raises = await (await world.as(world.users.employee)).carbon.raises();
      expect(raises).toMatchObject([{ state: 'pending', reason: 'Quarter-end evaluation runs.' }]);
    });

    it('a raise form without grams is refused in the modal, and nothing is filed', async () => {
      const submit = await world.sender.viewSubmission({
        userId: world.members.employee.id,
        callbackId: 'carbon_raise_submit',
        values: {
          raise_grams: { grams: { type: 'number_input', value: '' } },
          raise_reason: { reason: { type: 'plain_text_input', value: 'x' } },
        },
      });
      expect(JSON.parse(submit.body)).toMatchObject({
        response_action: 'errors',
        errors: { raise_grams: expect.any(String) },
      });
    });
  });

  describe('App Home', () => {
    it('publishes wallet, carbon gauge, settled requests with scores and the mute toggle', async () => {
      const home = await openHome(world.members.employee);
      const text = JSON.stringify(home.view);
      expect(text).toContain('Wallet');
      expect(text).toContain('Your carbon');
      expect(text).toContain(ownRequest);
      expect(text).toContain('value *80%*');
      expect(text).toContain('"action_id":"settlement_mute_toggle"');
      expect(text).not.toContain('value per 1k tokens this month');
    });

    it("shows a lead their team's value-per-1k-tokens leaderboard, best first", async () => {
      const text = JSON.stringify((await openHome(world.members.lead)).view);
      expect(text).toContain('value per 1k tokens this month');
      expect(text.indexOf('*Emma*')).toBeGreaterThan(-1);
      expect(text.indexOf('*Emma*')).toBeLessThan(text.indexOf('*Carl*'));
    });

    it('a role change shows at once, though the Slack link is cached', async () => {
      expect(JSON.stringify((await openHome(world.members.colleague)).view)).not.toContain('value per 1k tokens');
      const { colleague } = world.users;
      await setUserRoles(world.db, {
        orgId: world.org.id,
        userId: colleague.id,
        roles: ['employee', 'lead'],
        actor: 'test',
      });
      expect(JSON.stringify((await openHome(world.members.colleague)).view)).toContain(
        'value per 1k tokens this month',
      );
      expect(
        world.slack.callsTo('users.info').filter((call) => call.args.user === world.members.colleague.id),
      ).toHaveLength(1);
    });

    it('the toggle mutes settlement messages, is kept, and the Home shows it', async () => {
      const home = await openHome(world.members.employee);
      const before = world.slack.views().length;
      await world.sender.action({
        userId: world.members.employee.id,
        actionId: 'settlement_mute_toggle',
        value: 'mute',
        homeViewId: home.id,
      });
      const republished = await world.slack.waitFor(
        () =>
          world.slack
            .views()
            .slice(before)
            .find((view) => view.kind === 'home'),
        'republished Home',
      );
      expect(JSON.stringify(republished.view)).toContain('"value":"unmute"');
      expect(await isSettlementMuted(world.db, { orgId: world.org.id, userId: world.users.employee.id })).toBe(true);
      expect(await isSettlementMuted(world.db, { orgId: world.org.id, userId: world.users.colleague.id })).toBe(false);
    });

    it('an unknown member sees whom to ask instead of data', async () => {
      const text = JSON.stringify((await openHome(world.members.stranger)).view);
      expect(text).toContain('Ada Admin');
      expect(text).not.toContain('Wallet');
    });
  });
});
