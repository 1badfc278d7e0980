import { listSlackDeliveries, setSettlementMuted, type User } from '@tokenwise/db';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openSlackWorld, type SlackWorld } from '../test-world';
import { imChannelOf, type SlackMember } from '../testing/index';
import { createDeliveryClient } from './client';
import { startDeliveryLoop, type DeliveryLoop } from './loop';
import { insertSettlementNote, insertSoftThresholdNote } from './testing-notifications';

let w: SlackWorld;
let loop: DeliveryLoop;
let clockMs = Date.now();
const hourMs = 3_600_000;

beforeAll(async () => {
  w = await openSlackWorld();
  // Passes run when the test says (runOnce), on a clock the test moves.
  loop = startDeliveryLoop(
    {
      db: w.db,
      orgId: w.org.id,
      client: createDeliveryClient(w.slack.botToken, { slackApiUrl: w.slack.apiUrl }),
      log: () => {},
    },
    { pollIntervalMs: hourMs, digestIntervalMs: hourMs, now: () => new Date(clockMs) },
  );
});
afterAll(async () => {
  await loop?.stop();
  await w?.close();
});

const dmsTo = (member: SlackMember, about: RegExp) =>
  w.slack.messages().filter((message) => message.channel === imChannelOf(member.id) && about.test(message.text ?? ''));
const statesOf = async (user: User, kind: string) =>
  (await listSlackDeliveries(w.db, { orgId: w.org.id, userId: user.id })).filter((row) => row.kind === kind);

describe('settlement digests', () => {
  it('sends one message for many settled requests, none again within the interval, the rest after it', async () => {
    for (let i = 0; i < 7; i++) await insertSettlementNote(w.db, w.users.employee, { requestId: `req-digest-${i}` });
    await loop.runOnce();
    const [digest, ...more] = dmsTo(w.members.employee, /settled/);
    expect(more).toHaveLength(0);
    expect(digest?.text).toContain('7 requests settled: refunds 1.75 innovation');
    for (let i = 0; i < 7; i++) expect(JSON.stringify(digest?.blocks)).toContain(`req-digest-${i}`);
    expect((await statesOf(w.users.employee, 'settlement')).map((row) => row.state)).toEqual(Array(7).fill('sent'));

    await insertSettlementNote(w.db, w.users.employee, { requestId: 'req-late-1' });
    await insertSettlementNote(w.db, w.users.employee, { requestId: 'req-late-2' });
    clockMs += hourMs / 2;
    await loop.runOnce();
    await loop.runOnce();
    expect(dmsTo(w.members.employee, /settled/)).toHaveLength(1);
    expect((await statesOf(w.users.employee, 'settlement')).filter((row) => row.state === 'pending')).toHaveLength(2);

    clockMs += hourMs / 2 + 1_000;
    await loop.runOnce();
    const digests = dmsTo(w.members.employee, /settled/);
    expect(digests).toHaveLength(2);
    expect(digests[1]?.text).toContain('2 requests settled');
    expect(JSON.stringify(digests[1]?.blocks)).toContain('req-late-2');
  });

  it('sends a muted user nothing and marks their settlement rows handled', async () => {
    await setSettlementMuted(w.db, { orgId: w.org.id, userId: w.users.colleague.id, muted: true, actor: 'test' });
    for (let i = 0; i < 3; i++) await insertSettlementNote(w.db, w.users.colleague);
    await insertSoftThresholdNote(w.db, w.users.colleague);
    await loop.runOnce();
    expect(dmsTo(w.members.colleague, /settled/)).toHaveLength(0);
    expect((await statesOf(w.users.colleague, 'settlement')).map((row) => row.state)).toEqual(Array(3).fill('muted'));
    // The mute is for settlement results only: the carbon alert still arrives.
    expect(dmsTo(w.members.colleague, /carbon use/)).toHaveLength(1);
  });
});

describe('recipients', () => {
  it('records a person without a Slack account once and delivers everyone else', async () => {
    // Ada (admin) has no member in the workspace; Lea has.
    await insertSoftThresholdNote(w.db, w.users.admin);
    await insertSoftThresholdNote(w.db, w.users.lead);
    await insertSettlementNote(w.db, w.users.admin);
    clockMs += 1_000;
    await loop.runOnce();
    expect(dmsTo(w.members.lead, /carbon use for 2026-12 passed 80% of it: 4.1 g of 5 g CO2e/)).toHaveLength(1);
    const ada = await listSlackDeliveries(w.db, { orgId: w.org.id, userId: w.users.admin.id });
    expect(ada.map((row) => [row.kind, row.state, row.lastError])).toEqual([
      ['carbon_soft_threshold', 'no_slack_user', 'users_not_found'],
      ['settlement', 'no_slack_user', 'users_not_found'],
    ]);
    const lookups = w.slack.callsTo('users.lookupByEmail').length;
    clockMs += hourMs * 2;
    await loop.runOnce();
    expect(w.slack.callsTo('users.lookupByEmail')).toHaveLength(lookups);
  });
});
