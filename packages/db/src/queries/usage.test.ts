import { InvariantError } from '@tokenwise/core';
import { describeEachBackend } from '@tokenwise/db/testing';
import { beforeAll, expect, it } from 'vitest';
import { usageRecords } from '../schema/index';
import { createOrg } from './orgs';
import { scoresPerUser } from './scores';
import { findUsageWithSettlement, pageUsageWithSettlement } from './usage';
import { createTeam, createUser, type User } from './users';

const actor = 'test';

describeEachBackend('usage reads keep to their scope', (database, backend) => {
  let mine: User;
  let teammate: User;
  let outsider: User;
  let otherOrgUser: User;
  let orgId: string;
  let teamId: string;

  const insertUsage = async (user: User, requestId: string, createdAt: Date) =>
    database().db.insert(usageRecords).values({
      requestId,
      orgId: user.orgId,
      userId: user.id,
      teamId: user.teamId,
      keyId: 'aaaaaaaaaaaa',
      model: 'llama-8b',
      cluster: 'local',
      replica: 'r0',
      tier: 'standard',
      promptTokens: 100,
      completionTokens: 900,
      currency: 'innovation',
      cost: 1_000n,
      priceListVersion: 1,
      latencyMs: 50,
      co2eMicrograms: 1_500_000n,
      energyMicroWh: 10_000n,
      system: false,
      outcome: 'completed',
      createdAt,
    });

  beforeAll(async () => {
    const db = database().db;
    orgId = (await createOrg(db, { actor, input: { slug: `scope-${backend}`, name: 'Scope' } })).id;
    const otherOrgId = (await createOrg(db, { actor, input: { slug: `other-${backend}`, name: 'Other' } })).id;
    teamId = (await createTeam(db, { actor, input: { orgId, slug: 'blue', name: 'Blue' } })).id;
    mine = await createUser(db, { actor, input: { orgId, teamId, email: 'me@scope.test', displayName: 'Me' } });
    teammate = await createUser(db, { actor, input: { orgId, teamId, email: 'mate@scope.test', displayName: 'Mate' } });
    outsider = await createUser(db, { actor, input: { orgId, email: 'solo@scope.test', displayName: 'Solo' } });
    otherOrgUser = await createUser(db, {
      actor,
      input: { orgId: otherOrgId, email: 'x@other.test', displayName: 'X' },
    });
    const at = (second: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, second));
    await insertUsage(mine, 'req-a', at(1));
    await insertUsage(teammate, 'req-b', at(2));
    await insertUsage(outsider, 'req-c', at(3));
    await insertUsage(otherOrgUser, 'req-d', at(4));
    // Same time as req-a: the keyset orders ties by request id.
    await insertUsage(mine, 'req-e', at(1));
  });

  const ids = (rows: { requestId: string }[]) => rows.map((row) => row.requestId);

  it('narrows the org to a team or a user, and never crosses into another org', async () => {
    const db = database().db;
    expect(ids(await pageUsageWithSettlement(db, { scope: { orgId }, limit: 10 }))).toEqual([
      'req-c',
      'req-b',
      'req-e',
      'req-a',
    ]);
    expect(ids(await pageUsageWithSettlement(db, { scope: { orgId, teamId }, limit: 10 }))).toEqual([
      'req-b',
      'req-e',
      'req-a',
    ]);
    expect(ids(await pageUsageWithSettlement(db, { scope: { orgId, userId: mine.id }, limit: 10 }))).toEqual([
      'req-e',
      'req-a',
    ]);
    expect(ids(await pageUsageWithSettlement(db, { scope: { userId: otherOrgUser.id }, limit: 10 }))).toEqual([
      'req-d',
    ]);
    expect(await findUsageWithSettlement(db, { scope: { orgId }, requestId: 'req-d' })).toBeUndefined();
    expect(await findUsageWithSettlement(db, { scope: { orgId, teamId }, requestId: 'req-c' })).toBeUndefined();
    expect(await findUsageWithSettlement(db, { scope: { orgId, teamId }, requestId: 'req-b' })).toMatchObject({
      requestId: 'req-b',
      score: null,
      settledAt: null,
    });
  });

  it('pages newest first after a keyset position, ties by request id', async () => {
    const db = database().db;
    const first = await pageUsageWithSettlement(db, { scope: { orgId }, limit: 2 });
    const last = first.at(-1);
    if (last === undefined) throw new Error('expected a first page');
    const rest = await pageUsageWithSettlement(db, {
      scope: { orgId },
      after: { createdAt: last.createdAt, requestId: last.requestId },
      limit: 10,
    });
    expect([ids(first), ids(rest)]).toEqual([
      ['req-c', 'req-b'],
      ['req-e', 'req-a'],
    ]);
  });

  it('refuses a scope that names neither an org nor a user, rather than reading every org', async () => {
    const db = database().db;
    await expect(pageUsageWithSettlement(db, { scope: { teamId }, limit: 10 })).rejects.toThrow(InvariantError);
    await expect(scoresPerUser(db, { scope: {}, limit: 10, scoredOnly: false })).rejects.toThrow(InvariantError);
  });
});
