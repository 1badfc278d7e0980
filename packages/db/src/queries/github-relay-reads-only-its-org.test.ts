import { describeEachBackend } from '@tokenwise/db/testing';
import { beforeAll, expect, it } from 'vitest';
import { outbox, requestPayloads, scoringConfigs, usageRecords } from '../schema/index';
import { linkGithubAccount } from './github-accounts';
import { indexEvidenceKeys } from './evidence-index';
import {
  currentPluginConfigs,
  findMatchInputs,
  pendingGithubEvidenceOutboxRows,
  widelySharedEvidenceKeys,
} from './github-relay';
import { createOrg } from './orgs';
import { createTeam, createUser, type User } from './users';

const actor = 'test';

describeEachBackend("the GitHub relay's reads", (database, backend) => {
  let orgId: string;
  let otherOrgId: string;
  let teamId: string;
  let ada: User;
  let outsider: User;

  const insertUsage = async (user: User, requestId: string, completion: string | null) => {
    const db = database().db;
    await db.insert(usageRecords).values({
      requestId,
      orgId: user.orgId,
      userId: user.id,
      teamId: user.teamId,
      keyId: 'aaaaaaaaaaaa',
      model: 'llama-8b',
      cluster: 'local',
      replica: 'r0',
      tier: 'standard',
      promptTokens: 10,
      completionTokens: 90,
      currency: 'innovation',
      cost: 1_000n,
      priceListVersion: 1,
      latencyMs: 50,
      co2eMicrograms: 1_500n,
      energyMicroWh: 10n,
      system: false,
      outcome: 'completed',
      sessionId: 'sess-1',
    });
    if (completion !== null)
      await db.insert(requestPayloads).values({
        requestId,
        prompt: [],
        completion,
        truncated: false,
        expiresAt: new Date(Date.now() + 86_400_000),
      });
  };

  beforeAll(async () => {
    const db = database().db;
    orgId = (await createOrg(db, { actor, input: { slug: `relay-${backend}`, name: 'Relay' } })).id;
    otherOrgId = (await createOrg(db, { actor, input: { slug: `relay-other-${backend}`, name: 'Other' } })).id;
    teamId = (await createTeam(db, { actor, input: { orgId, slug: 'blue', name: 'Blue' } })).id;
    const otherTeamId = (await createTeam(db, { actor, input: { orgId: otherOrgId, slug: 'red', name: 'Red' } })).id;
    const quietTeamId = (await createTeam(db, { actor, input: { orgId, slug: 'quiet', name: 'Quiet' } })).id;
    ada = await createUser(db, { actor, input: { orgId, teamId, email: 'ada@relay.test', displayName: 'Ada' } });
    outsider = await createUser(db, {
      actor,
      input: { orgId: otherOrgId, teamId: otherTeamId, email: 'ada@other.test', displayName: 'Ada elsewhere' },
    });
    const watching = { pluginId: 'github-commits', weight: 1, config: { owner: 'acme' } };
    await db.insert(scoringConfigs).values([
      { teamId, version: 1, createdBy: actor, plugins: [{ ...watching, config: { owner: 'old' } }] },
      { teamId, version: 2, createdBy: actor, plugins: [{ pluginId: 'llm-judge', weight: 1, config: {} }, watching] },
      { teamId: otherTeamId, version: 1, createdBy: actor, plugins: [watching] },
      // A team that turned the plugin off since: its newest version does not list it.
      { teamId: quietTeamId, version: 1, createdBy: actor, plugins: [watching] },
      { teamId: quietTeamId, version: 2, createdBy: actor, plugins: [] },
    ]);
    for (const [user, orgOf] of [
      [ada, orgId],
      [outsider, otherOrgId],
    ] as const)
      await linkGithubAccount(db, {
        orgId: orgOf,
        userId: user.id,
        login: 'ada-gh',
        githubUserId: null,
        provenVia: 'admin',
        actor,
      });
    await insertUsage(ada, 'req-ada', 'const a = 1;');
    await insertUsage(ada, 'req-ada-purged', null);
    await insertUsage(outsider, 'req-outsider', 'const a = 1;');
  });

  it("lists each team's newest configuration of the plugin, with its org", async () => {
    const configs = await currentPluginConfigs(database().db, { pluginId: 'github-commits' });
    expect(configs.map((entry) => [entry.orgId === orgId ? 'org' : 'other', entry.config]).sort()).toEqual([
      ['org', { owner: 'acme' }],
      ['other', { owner: 'acme' }],
    ]);
  });

  it("loads match inputs of the org's own requests only, with the login linked in that org", async () => {
    const inputs = await findMatchInputs(database().db, {
      orgId,
      requestIds: ['req-ada', 'req-ada-purged', 'req-outsider'],
    });
    expect(inputs.map((input) => input.requestId).sort()).toEqual(['req-ada', 'req-ada-purged']);
    const adaInput = inputs.find((input) => input.requestId === 'req-ada');
    expect(adaInput).toMatchObject({ githubLogin: 'ada-gh', completion: 'const a = 1;', sessionId: 'sess-1' });
    // No admission pinned a version: the team's newest applies, as settlement reads it.
    expect(JSON.stringify(adaInput?.plugins)).toContain('"owner":"acme"');
    expect(inputs.find((input) => input.requestId === 'req-ada-purged')?.completion).toBeNull();
  });

  it('reads undelivered evidence rows oldest first, leaving out the rows waiting out a back-off', async () => {
    const db = database().db;
    const rows = await db
      .insert(outbox)
      .values(['ev-1', 'ev-2', 'ev-3'].map((requestId) => ({ requestId, kind: 'github_evidence' })))
      .returning({ id: outbox.id });
    await db.insert(outbox).values({ requestId: 'ev-1', kind: 'settle' });
    const pending = await pendingGithubEvidenceOutboxRows(db, { limit: 10, waitingIds: [rows[0]!.id] });
    expect(pending.map((row) => row.evidenceId)).toEqual(['ev-2', 'ev-3']);
    expect(await pendingGithubEvidenceOutboxRows(db, { limit: 1 })).toEqual([
      { outboxId: rows[0]!.id, evidenceId: 'ev-1' },
    ]);
  });

  it("names the keys many of the org's waiting requests share, counting only the org's own and open windows", async () => {
    const db = database().db;
    const now = new Date();
    const index = (org: string, requestId: string, keys: string[], expiresAt = new Date(now.getTime() + 86_400_000)) =>
      indexEvidenceKeys(db, {
        orgId: org,
        pluginId: 'github-commits',
        requestId,
        requestCreatedAt: now,
        expiresAt,
        keys,
      });
    for (const n of [1, 2]) await index(orgId, `req-common-${n}`, ['fp:7', 'fp:8']);
    await index(orgId, 'req-expired', ['fp:8'], new Date(now.getTime() - 1));
    await index(otherOrgId, 'req-elsewhere', ['fp:7', 'fp:9']);
    await index(orgId, 'req-rare', ['fp:7', 'fp:9']);
    const shared = await widelySharedEvidenceKeys(db, {
      orgId,
      pluginId: 'github-commits',
      keys: ['fp:7', 'fp:8', 'fp:9'],
      requestsMin: 3,
      now,
    });
    expect(shared).toEqual(['fp:7']);
  });
});
