import {
  claimDueSlackDeliveries,
  createUser,
  enqueueSlackDeliveries,
  findCarbonRaise,
  listSlackDeliveries,
  pendingCarbonRaiseOutboxRows,
  publishCarbonCap,
  type User,
} from '@tokenwise/db';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSlackBot, type RunningSlackBot } from './app';
import { slackDeliveryExtension } from './delivery/index';
import { raiseApproveActionId, raiseDenyActionId } from './delivery/raise-blocks';
import {
  insertRaiseRequestedNotes,
  insertSettlementNote,
  insertSoftThresholdNote,
} from './delivery/testing-notifications';
import { openSlackWorld, type SlackWorld } from './test-world';
import { imChannelOf, type PostedMessage, type SlackMember } from './testing/index';

let w: SlackWorld;
let bot: RunningSlackBot | undefined;
let sven: User;
let svenMember: SlackMember;

/** A bot with delivery and approvals, passes every 20 ms, short backoff, no digest interval. */
const startBot = () =>
  startSlackBot({
    db: w.db,
    ledger: w.ledger,
    keyPepper: w.keyPepper,
    org: { slug: 'acme' },
    config: {
      botToken: w.slack.botToken,
      transport: { kind: 'http', signingSecret: w.slack.signingSecret, port: 0, host: '127.0.0.1' },
      apiUrl: w.slack.apiUrl,
      orgSlug: 'acme',
    },
    log: () => {},
    authRetry: { initialMs: 20, maxMs: 100 },
    extensions: [
      slackDeliveryExtension({ pollIntervalMs: 20, backoffInitialMs: 20, backoffMaxMs: 100, digestIntervalMs: 0 }),
    ],
  });

beforeAll(async () => {
  w = await openSlackWorld();
  sven = await createUser(w.db, {
    actor: 'test',
    input: { orgId: w.org.id, email: 'sven@acme.test', displayName: 'Sven', roles: ['esg'] },
  });
  svenMember = w.slack.addMember({ id: 'U0SVEN', name: 'sven', realName: 'Sven', email: 'sven@acme.test' });
  await publishCarbonCap(w.db, {
    orgId: w.org.id,
    scope: 'user',
    scopeId: w.users.employee.id,
    period: 'month',
    hardMicrograms: 5_000_000_000n,
    softPercent: null,
    actor: 'test',
  });
  bot = await startBot();
});
afterAll(async () => {
  await bot?.close();
  await w?.close();
});

const dmsTo = (member: SlackMember, about: RegExp): PostedMessage[] =>
  w.slack
    .messages()
    .filter(
      (message) =>
        message.channel === imChannelOf(member.id) &&
        message.ephemeralTo === undefined &&
        about.test(message.text ?? ''),
    );

describe('durable delivery', () => {
  it('loses nothing to a Slack outage (500s, then 429 with Retry-After) and sends each message once', async () => {
    const callsBefore = w.slack.callsTo('chat.postMessage').length;
    w.slack.failNext('chat.postMessage', { kind: 'http', status: 500 }, 2);
    w.slack.rateLimit('chat.postMessage', 1, 1);
    await w.db.transaction(async (tx) => {
      for (const user of [w.users.employee, w.users.colleague, w.users.lead]) await insertSoftThresholdNote(tx, user);
    });
    const members = [w.members.employee, w.members.colleague, w.members.lead];
    await w.slack.waitFor(
      () => (members.every((member) => dmsTo(member, /carbon use/).length > 0) ? true : undefined),
      'an alert to each',
      6_000,
    );
    for (const member of members) expect(dmsTo(member, /carbon use/)).toHaveLength(1);
    const calls = w.slack.callsTo('chat.postMessage').slice(callsBefore);
    expect(calls.map((call) => call.outcome)).toEqual(['http_500', 'http_500', 'ratelimited', 'ok', 'ok', 'ok']);
    const [limited, firstAfter] = [calls[2], calls[3]];
    // Retry-After: 1 — nothing was sent to Slack in the second after the 429.
    expect((firstAfter?.atMs ?? 0) - (limited?.atMs ?? 0)).toBeGreaterThanOrEqual(1_000);
  });

  it('resumes after a restart (close, then start) without loss or duplicate, and frees a dead process’s rows', async () => {
    await bot?.close();
    bot = undefined;
    await w.db.transaction(async (tx) => {
      await insertSoftThresholdNote(tx, w.users.employee, 90);
      await insertSoftThresholdNote(tx, w.users.lead, 90);
      await insertSettlementNote(tx, w.users.lead, { requestId: 'req-while-down-1' });
      await insertSettlementNote(tx, w.users.lead, { requestId: 'req-while-down-2' });
    });
    // A process that claimed the employee's alert and died before sending it: its lease lapses.
    await enqueueSlackDeliveries(w.db, {
      orgId: w.org.id,
      kinds: ['carbon_soft_threshold'],
      limit: 10,
      now: new Date(),
    });
    const held = await claimDueSlackDeliveries(w.db, {
      orgId: w.org.id,
      kinds: ['carbon_soft_threshold'],
      owner: 'crashed-process',
      now: new Date(),
      leaseMs: 300,
      limit: 1,
    });
    expect(held).toHaveLength(1);
    bot = await startBot();
    await w.slack.waitFor(
      () =>
        dmsTo(w.members.employee, /90%/).length > 0 &&
        dmsTo(w.members.lead, /90%/).length > 0 &&
        dmsTo(w.members.lead, /settled/).length > 0
          ? true
          : undefined,
      'the rows written while the bot was down',
      6_000,
    );
    expect(dmsTo(w.members.employee, /carbon use/)).toHaveLength(2);
    expect(dmsTo(w.members.lead, /carbon use/)).toHaveLength(2);
    expect(dmsTo(w.members.lead, /settled/).map((message) => message.text)).toEqual([
      'Tokenwise: 2 requests settled: refunds 0.5 innovation.',
    ]);
    // Local Slack records a message before the bot hears back and marks its row sent: every row
    // must get there, within the same bound.
    const unsent = async () =>
      (await listSlackDeliveries(w.db, { orgId: w.org.id })).filter((row) => row.state !== 'sent');
    const deadline = Date.now() + 6_000;
    while ((await unsent()).length > 0 && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 20));
    expect(await unsent()).toEqual([]);
  });
});

describe('approval buttons', () => {
  const requestRaise = async (grams: number) => {
    const employee = await w.as(w.users.employee);
    const { raiseId } = await employee.carbon.requestRaise({ scope: 'user', grams, reason: 'quarter-end eval run' });
    await insertRaiseRequestedNotes(w.db, raiseId, w.users.employee, [w.users.esg, sven]);
    const copyOf = (member: SlackMember) => () => dmsTo(member, new RegExp(`\\+${grams} g`))[0];
    return {
      raiseId,
      esther: await w.slack.waitFor(copyOf(w.members.esg), 'Esther’s copy', 6_000),
      sven: await w.slack.waitFor(copyOf(svenMember), 'Sven’s copy', 6_000),
    };
  };
  const actionIds = (message: PostedMessage) =>
    JSON.stringify(message.blocks).match(/carbon_raise_(approve|deny)/g) ?? [];
  const click = (member: SlackMember, actionId: string, raiseId: string, copy: PostedMessage) =>
    w.slack.http(bot?.url ?? '').action({
      userId: member.id,
      actionId,
      value: raiseId,
      message: { channel: copy.channel, ts: copy.ts, text: copy.text, blocks: copy.blocks },
    });

  it('sends each ESG officer the request with Approve / Deny; an approval updates every copy and approves the raise', async () => {
    const raise = await requestRaise(25);
    expect(actionIds(raise.esther)).toEqual(['carbon_raise_approve', 'carbon_raise_deny']);
    expect(JSON.stringify(raise.sven.blocks)).toContain(`"value":"${raise.raiseId}"`);
    expect(raise.esther.text).toContain('Emma <emma@acme.test>');

    const delivery = await click(w.members.esg, raiseApproveActionId, raise.raiseId, raise.esther);
    expect(delivery.status).toBe(200);
    for (const copy of [raise.esther, raise.sven])
      await w.slack.waitFor(() => (copy.updates > 0 ? true : undefined), 'the copy updated', 4_000);
    for (const copy of [raise.esther, raise.sven]) {
      expect(actionIds(copy)).toEqual([]);
      expect(JSON.stringify(copy.blocks)).toMatch(/Approved by Esther &lt;esther@acme.test&gt; at .*25 g CO2e granted/);
    }
    const stored = await findCarbonRaise(w.db, { raiseId: raise.raiseId });
    expect(stored).toMatchObject({ state: 'approved', decidedBy: w.users.esg.id, grantedMicrograms: 25_000_000n });
    // The approval workflow learns of it through the outbox row its relay signals from.
    const outbox = await pendingCarbonRaiseOutboxRows(w.db, { limit: 100 });
    expect(outbox.filter((row) => row.raiseId === raise.raiseId && row.kind === 'carbon_raise_decided')).toHaveLength(
      1,
    );
  });

  it('refuses a non-officer’s click ephemerally and changes nothing; two officers at once decide once', async () => {
    const raise = await requestRaise(30);
    const refused = await click(w.members.employee, raiseApproveActionId, raise.raiseId, raise.esther);
    const refusal = await w.slack.waitForResponse(refused.responseUrlId ?? '', 4_000);
    expect(refusal.body).toMatchObject({ response_type: 'ephemeral', replace_original: false });
    expect(String(refusal.body.text)).toMatch(/Only ESG officers decide carbon raises/);
    expect((await findCarbonRaise(w.db, { raiseId: raise.raiseId }))?.state).toBe('pending');
    expect([raise.esther.updates, raise.sven.updates]).toEqual([0, 0]);

    const [byEsther, bySven] = await Promise.all([
      click(w.members.esg, raiseApproveActionId, raise.raiseId, raise.esther),
      click(svenMember, raiseDenyActionId, raise.raiseId, raise.sven),
    ]);
    const loser = await w.slack.waitFor(
      () => w.slack.responsesTo(byEsther.responseUrlId ?? '')[0] ?? w.slack.responsesTo(bySven.responseUrlId ?? '')[0],
      'the second click’s answer',
      4_000,
    );
    const stored = await findCarbonRaise(w.db, { raiseId: raise.raiseId });
    const winner = stored?.decidedBy === w.users.esg.id ? 'Esther' : 'Sven';
    expect(stored?.state).toBe(winner === 'Esther' ? 'approved' : 'denied');
    expect(loser.id).toBe(winner === 'Esther' ? bySven.responseUrlId : byEsther.responseUrlId);
    expect(String(loser.body.text)).toMatch(new RegExp(`already ${stored?.state} by ${winner} <`));
    for (const copy of [raise.esther, raise.sven]) {
      await w.slack.waitFor(() => (copy.updates > 0 ? true : undefined), 'the copy updated', 4_000);
      expect(actionIds(copy)).toEqual([]);
      expect(JSON.stringify(copy.blocks)).toContain(`${winner === 'Esther' ? 'Approved' : 'Denied'} by ${winner}`);
    }
    const outbox = await pendingCarbonRaiseOutboxRows(w.db, { limit: 100 });
    expect(outbox.filter((row) => row.raiseId === raise.raiseId && row.kind === 'carbon_raise_decided')).toHaveLength(
      1,
    );
  });
});
