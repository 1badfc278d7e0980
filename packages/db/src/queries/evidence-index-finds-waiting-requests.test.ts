import { describeEachBackend } from '@tokenwise/db/testing';
import { beforeAll, expect, it } from 'vitest';
import { findRequestsByEvidenceKeys, indexEvidenceKeys, purgeExpiredEvidenceKeys } from './evidence-index';
import { createOrg } from './orgs';

const actor = 'test';
const at = (day: number) => new Date(Date.UTC(2026, 11, day));

describeEachBackend('the evidence index finds waiting requests by key', (database, backend) => {
  let orgId: string;
  let otherOrgId: string;

  beforeAll(async () => {
    const db = database().db;
    orgId = (await createOrg(db, { actor, input: { slug: `evidence-${backend}`, name: 'Evidence' } })).id;
    otherOrgId = (await createOrg(db, { actor, input: { slug: `evidence-other-${backend}`, name: 'Other' } })).id;
    const index = (org: string, requestId: string, day: number, keys: string[], pluginId = 'github-commits') =>
      indexEvidenceKeys(db, {
        orgId: org,
        pluginId,
        requestId,
        requestCreatedAt: at(day),
        expiresAt: at(day + 14),
        keys,
      });
    await index(orgId, 'req-early', 1, ['fp:1', 'fp:2', 'fp:3', 'session:s1']);
    await index(orgId, 'req-late', 3, ['fp:2', 'fp:3', 'fp:4']);
    // A retried activity writes the same keys again: nothing changes.
    await index(orgId, 'req-early', 1, ['fp:1', 'fp:2', 'fp:3', 'session:s1', 'fp:1']);
    await index(otherOrgId, 'req-other-org', 1, ['fp:1', 'fp:2', 'fp:3']);
    await index(orgId, 'req-other-plugin', 1, ['fp:1'], 'ab-results');
  });

  it('ranks by keys matched, then earliest, and never crosses into another org or plugin', async () => {
    const hits = await findRequestsByEvidenceKeys(database().db, {
      orgId,
      pluginId: 'github-commits',
      keys: ['fp:2', 'fp:3', 'fp:4', 'fp:9'],
      now: at(5),
    });
    expect(hits.map((hit) => [hit.requestId, hit.keysMatched])).toEqual([
      ['req-late', 3],
      ['req-early', 2],
    ]);
    expect(hits[1]!.requestCreatedAt.toISOString()).toBe(at(1).toISOString());
    const bySession = await findRequestsByEvidenceKeys(database().db, {
      orgId,
      pluginId: 'github-commits',
      keys: ['session:s1'],
      now: at(5),
    });
    expect(bySession.map((hit) => hit.requestId)).toEqual(['req-early']);
  });

  it('forgets a request once its evidence window closed, and purges its keys', async () => {
    const db = database().db;
    const keys = ['fp:1', 'fp:2', 'fp:3', 'fp:4'];
    const afterEarlyWindow = at(15);
    const hits = await findRequestsByEvidenceKeys(db, {
      orgId,
      pluginId: 'github-commits',
      keys,
      now: afterEarlyWindow,
    });
    expect(hits.map((hit) => hit.requestId)).toEqual(['req-late']);
    // req-early's 4 keys, req-other-org's 3 and req-other-plugin's 1 expired on day 15.
    expect(await purgeExpiredEvidenceKeys(db, { now: afterEarlyWindow, limit: 5 })).toBe(5);
    expect(await purgeExpiredEvidenceKeys(db, { now: afterEarlyWindow, limit: 5 })).toBe(3);
    expect(await purgeExpiredEvidenceKeys(db, { now: afterEarlyWindow, limit: 5 })).toBe(0);
    const still = await findRequestsByEvidenceKeys(db, { orgId, pluginId: 'github-commits', keys, now: at(5) });
    expect(still.map((hit) => hit.requestId)).toEqual(['req-late']);
  });
});
