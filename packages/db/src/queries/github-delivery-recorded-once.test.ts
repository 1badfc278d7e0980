import { describeEachBackend } from '@tokenwise/db/testing';
import { expect, it } from 'vitest';
import { findGithubEvidence, recordGithubDelivery, type GithubEvidenceInput } from './github-evidence';
import { pendingOutboxRows } from './outbox';

const evidence: GithubEvidenceInput = {
  kind: 'push',
  repositoryFullName: 'Acme/Widgets',
  pullNumber: null,
  baseRef: 'main',
  mergeCommitSha: 'a'.repeat(40),
  beforeSha: 'b'.repeat(40),
  forced: false,
  authorLogin: 'octocat',
  mergedByLogin: null,
  mergedAt: null,
  commits: [],
  requestIds: ['req_0123456789abcdef01234567'],
  sessionIds: [],
};

describeEachBackend('a GitHub delivery is recorded once', (database) => {
  it('eight concurrent copies of one delivery write one delivery, one evidence row and one outbox row', async () => {
    const db = database().db;
    const results = await Promise.all(
      Array.from({ length: 8 }, () =>
        recordGithubDelivery(db, {
          deliveryId: 'd-1',
          event: 'push',
          action: null,
          outcome: 'evidence',
          reason: null,
          evidence,
        }),
      ),
    );
    const recorded = results.filter((result) => result.recorded);
    expect(recorded).toHaveLength(1);
    const id = recorded[0]?.recorded === true ? (recorded[0].evidenceId ?? '') : '';
    expect(await findGithubEvidence(db, { id })).toMatchObject({
      repositoryKey: 'acme/widgets',
      requestIds: evidence.requestIds,
    });
    expect(await pendingOutboxRows(db, { kind: 'github_evidence', limit: 10 })).toEqual([
      { id: expect.any(BigInt), requestId: id },
    ]);
  });
});
