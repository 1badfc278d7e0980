import { createOrg, createUser, listSlackDeliveries, type Database, type User } from '@tokenwise/db';
import { openTestDatabase } from '@tokenwise/db/testing';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { imChannelOf, startLocalSlack, type LocalSlack } from '../testing/index';
import { createDeliveryClient } from './client';
import { startDeliveryLoop, type DeliveryLoop } from './loop';
import { insertSettlementNote, insertSoftThresholdNote } from './testing-notifications';

// Two bot processes on one PostgreSQL: row locks and leases are real here, unlike PGlite's single connection.
let database: Database;
let slack: LocalSlack;
let loops: DeliveryLoop[] = [];
const people: User[] = [];

beforeAll(async () => {
  database = await openTestDatabase('postgres');
  slack = await startLocalSlack();
  const org = await createOrg(database.db, { actor: 'test', input: { slug: 'initech', name: 'Initech' } });
  for (let i = 0; i < 4; i++) {
    const email = `p${i}@initech.test`;
    people.push(
      await createUser(database.db, {
        actor: 'test',
        input: { orgId: org.id, email, displayName: `P${i}`, roles: ['employee'] },
      }),
    );
    slack.addMember({ id: `U0P${i}`, name: `p${i}`, realName: `P${i}`, email });
  }
  loops = ['a', 'b'].map((name) =>
    startDeliveryLoop(
      {
        db: database.db,
        orgId: org.id,
        client: createDeliveryClient(slack.botToken, { slackApiUrl: slack.apiUrl }),
        log: () => {},
      },
      // Small batches, so the two processes' passes interleave over the same rows.
      { owner: `process-${name}`, pollIntervalMs: 3_600_000, batchMax: 3, digestIntervalMs: 3_600_000 },
    ),
  );
});
afterAll(async () => {
  for (const loop of loops) await loop.stop();
  await slack?.close();
  await database?.close();
});

it('two processes at once send each alert once and each user one digest', async () => {
  await database.db.transaction(async (tx) => {
    for (const person of people) {
      for (let i = 0; i < 6; i++) await insertSoftThresholdNote(tx, person, 50 + i);
      for (let i = 0; i < 4; i++) await insertSettlementNote(tx, person);
    }
  });
  const orgId = people[0]?.orgId ?? '';
  for (let pass = 0; pass < 20; pass++) {
    await Promise.all(loops.map((loop) => loop.runOnce()));
    const rows = await listSlackDeliveries(database.db, { orgId });
    if (rows.length === 40 && rows.every((row) => row.state === 'sent')) break;
  }
  const rows = await listSlackDeliveries(database.db, { orgId });
  expect(rows.filter((row) => row.state === 'sent')).toHaveLength(40);
  for (const [i, person] of people.entries()) {
    const dms = slack.messages().filter((message) => message.channel === imChannelOf(`U0P${i}`));
    const alerts = dms.filter((message) => /carbon use/.test(message.text ?? '')).map((message) => message.text);
    expect(new Set(alerts).size).toBe(6);
    expect(alerts).toHaveLength(6);
    expect(dms.filter((message) => /settled/.test(message.text ?? ''))).toHaveLength(1);
    expect(person.orgId).toBe(orgId);
  }
});
