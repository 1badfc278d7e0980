import { findGithubEvidence, findOrgSlug, pendingOutboxRows } from '@tokenwise/db';
import { githubPushEvidenceId } from '@tokenwise/plugin-github-commits';
import {
  deliverWebhook,
  fakeSha,
  newFilePatch,
  type GithubPush,
  type GithubRepo,
} from '@tokenwise/plugin-github-commits/testing';
import { orgSecretVariable } from '@tokenwise/plugin-sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectedRefund, settlementTrace, until } from '../settlement/test-world';
import type { SettlementResult } from '../settlement/types';
import { startGithubRelay } from './relay';
import {
  codeOf,
  codeRequest,
  relayGithubToken,
  relayWebhookSecret,
  startRelayWorld,
  type RelayedRow,
  type RelayWorld,
} from './relay-test-world';

/** The `push` delivery GitHub sends for `push` onto `repo`'s default branch, pushed by `sender`. */
function pushPayload(repo: GithubRepo, push: GithubPush, sender: string) {
  return {
    ref: `refs/heads/${repo.defaultBranch}`,
    before: push.before,
    after: push.after,
    created: false,
    deleted: false,
    forced: false,
    repository: { full_name: `${repo.owner}/${repo.name}`, default_branch: repo.defaultBranch },
    pusher: { name: sender },
    sender: { login: sender },
    commits: push.commits.map((commit) => ({
      id: commit.sha,
      message: commit.message,
      timestamp: commit.authoredAt,
      author: { name: commit.author ?? 'Someone', username: commit.author ?? undefined },
    })),
  };
}

/**
 * A push to the default branch is code that landed without a pull request, so with nobody else's
 * review: the relay matches it as a self-merge by its commits' author, which counts at the team's
 * selfMergeWeight (0 by default: it credits nobody). The pusher proves nothing; the author does.
 */
describe('a push to the default branch wakes the settlements of the code it holds, as a self-merge', () => {
  let relayWorld: RelayWorld;

  beforeAll(async () => {
    relayWorld = await startRelayWorld();
  });
  afterAll(async () => {
    await relayWorld?.close();
  });

  it('refunds its author’s request at the team’s selfMergeWeight, nobody at the default weight or another author’s, and once', async () => {
    const { database, world, github, linkedTeam, pendingSettlement, evidenceOf } = relayWorld;
    const repo = github.addRepo('acme', 'payments');
    const watching = { repositories: ['acme/payments'], baseUrl: github.url, tokenSecret: 'GITHUB_TOKEN' };
    const selfMerges = { ...watching, selfMergeWeight: 0.5 };
    const ada = await linkedTeam('ada-gh', selfMerges);
    // Bea's team keeps the default selfMergeWeight, 0: her pushed code earns nothing.
    const bea = await linkedTeam('bea-gh', watching);
    const carol = await linkedTeam('carol-gh', selfMerges);
    // Dora's team counts only a completion landed whole: her half-pushed code stays pending.
    const dora = await linkedTeam('dora-gh', { ...selfMerges, selfMergeWeight: 1, minContainment: 1 });

    const adaRequest = await codeRequest(database, ada.client, codeOf(11));
    const beaRequest = await codeRequest(database, bea.client, codeOf(12));
    const carolRequest = await codeRequest(database, carol.client, codeOf(13));
    const doraRequest = await codeRequest(database, dora.client, codeOf(14));
    const requests = [adaRequest, beaRequest, carolRequest, doraRequest];
    const [adaHandle] = await Promise.all(requests.map(({ requestId }) => pendingSettlement(requestId)));

    const pushedAt = new Date().toISOString();
    const pushOf = (author: string, label: string, message: string, lines: string[]) =>
      github.addPush(repo, {
        commits: [{ sha: fakeSha(`${label}-1`), message, author, authoredAt: pushedAt }],
        files: [{ filename: `routes/${label}.json`, status: 'added', patch: newFilePatch(lines) }],
      });
    const adaPush = pushOf('ada-gh', 'ada', `Add the routing table\n\nTokenwise-Request: ${adaRequest.requestId}`, [
      adaRequest.completion,
    ]);
    const beaPush = pushOf('bea-gh', 'bea', `Add routes\n\nTokenwise-Request: ${beaRequest.requestId}`, [
      beaRequest.completion,
    ]);
    // Mallory authors Carol's code, names Carol's request, and Carol pushes it: Carol's login
    // pushing proves nothing, the commit is not hers.
    const malloryPush = pushOf('mallory-gh', 'mallory', `Routes\n\nTokenwise-Request: ${carolRequest.requestId}`, [
      carolRequest.completion,
    ]);
    const half = doraRequest.completion.slice(0, Math.floor(doraRequest.completion.length / 2));
    const doraPush = pushOf('dora-gh', 'dora', 'Half the routes', [half]);
    // GitHub answers the first comparisons of Ada's push with 502s, more than the client retries.
    github.failNext(
      new RegExp(`/compare/[0-9a-f]+\\.\\.\\.${adaPush.after}$`),
      {
        kind: 'status',
        status: 502,
        message: 'Server Error',
      },
      3,
    );

    const deliver = (push: GithubPush, sender: string) =>
      deliverWebhook({
        url: relayWorld.webhookUrl,
        secret: relayWebhookSecret,
        event: 'push',
        payload: pushPayload(repo, push, sender),
      });
    for (const [push, sender] of [
      [adaPush, 'ada-gh'],
      [beaPush, 'bea-gh'],
      [malloryPush, 'carol-gh'],
      [doraPush, 'dora-gh'],
    ] as const) {
      expect((await deliver(push, sender)).status).toBe(200);
    }

    const rows: RelayedRow[] = [];
    const slug = (await findOrgSlug(database.db, { orgId: world.orgId }))!;
    const startedMs = Date.now();
    const relay = startGithubRelay(
      relayWorld.relayDeps(rows, { [orgSecretVariable(slug, 'GITHUB_TOKEN')]: relayGithubToken }),
    );
    /** The rows relayed so far, by the push's `after`. */
    const relayedByAfter = async () => {
      const byAfter = new Map<string, RelayedRow['outcome'][]>();
      for (const row of rows) {
        if (row.outcome === undefined) continue;
        const after = (await findGithubEvidence(database.db, { id: row.evidenceId }))?.mergeCommitSha as string;
        byAfter.set(after, [...(byAfter.get(after) ?? []), row.outcome]);
      }
      return byAfter;
    };
    try {
      const adaResult = (await adaHandle!.result()) as SettlementResult;
      expect(Date.now() - startedMs).toBeLessThan(8_000);
      // Containment 1 at weight 0.5: the policy's 50% refund from a score of 0.5.
      expect(adaResult).toMatchObject({ status: 'settled', score: 0.5, refund: expectedRefund(adaRequest.cost) });
      await until(
        async () => (rows.filter((row) => row.outcome !== undefined).length === 4 ? true : undefined),
        'every push relayed',
      );
      // The 502s made the first attempt wait; the row was tried again, and relayed once.
      expect(rows.find((row) => row.deferred !== undefined)?.deferred).toMatch(/502|Server Error/);
      expect(Object.fromEntries(await relayedByAfter())).toEqual({
        [adaPush.after]: [{ signalled: 1, skipped: 0 }],
        [beaPush.after]: [{ signalled: 0, skipped: 0 }],
        [malloryPush.after]: [{ signalled: 0, skipped: 0 }],
        [doraPush.after]: [{ signalled: 1, skipped: 0 }],
      });
      const doraEvidence = await evidenceOf(doraRequest.requestId);
      expect(doraEvidence.received).toEqual([
        expect.objectContaining({
          evidenceId: githubPushEvidenceId('acme/payments', doraPush.after),
          payload: expect.objectContaining({
            requestId: doraRequest.requestId,
            selfMerged: true,
            approvedByOther: false,
            pull: expect.objectContaining({ number: 0, after: doraPush.after }),
          }),
        }),
      ]);
      // Bea's and Carol's settlements heard nothing and wait on.
      for (const untouched of [beaRequest, carolRequest]) {
        expect(await evidenceOf(untouched.requestId)).toMatchObject({ received: [], rejected: [] });
      }

      // The same pushes under new delivery ids: Dora's settlement counts hers as a duplicate, Ada's is closed.
      rows.length = 0;
      expect((await deliver(adaPush, 'ada-gh')).status).toBe(200);
      expect((await deliver(doraPush, 'dora-gh')).status).toBe(200);
      await until(
        async () => (rows.filter((row) => row.outcome !== undefined).length === 2 ? true : undefined),
        'the redeliveries',
      );
      expect(Object.fromEntries(await relayedByAfter())).toEqual({
        [adaPush.after]: [{ signalled: 0, skipped: 1 }],
        [doraPush.after]: [{ signalled: 1, skipped: 0 }],
      });
      expect(await evidenceOf(doraRequest.requestId)).toMatchObject({ duplicatesIgnored: 1 });
      expect((await evidenceOf(doraRequest.requestId)).received).toHaveLength(1);
      const trace = await settlementTrace(database, adaRequest.requestId);
      expect(trace.rows).toHaveLength(1);
      expect(trace.transfers.filter((transfer) => transfer.code === 'refund')).toHaveLength(1);
      expect(await pendingOutboxRows(database.db, { kind: 'github_evidence', limit: 10 })).toEqual([]);
    } finally {
      await relay.stop();
    }
  });
  it('gives each author of a push of several authors’ commits the lines their own commits added, and asks GitHub nothing when no team weighs self-merges', async () => {
    const { database, world, github, linkedTeam, pendingSettlement, evidenceOf } = relayWorld;
    const repo = github.addRepo('acme', 'ledger');
    const quiet = github.addRepo('acme', 'quiet');
    const source = { baseUrl: github.url, tokenSecret: 'GITHUB_TOKEN' };
    const selfMerges = { ...source, repositories: ['acme/ledger'], selfMergeWeight: 0.5 };
    const ella = await linkedTeam('ella-gh', selfMerges);
    const finn = await linkedTeam('finn-gh', selfMerges);
    // Gus's team watches acme/quiet at the default selfMergeWeight, 0: no push there can credit anyone.
    const gus = await linkedTeam('gus-gh', { ...source, repositories: ['acme/quiet'] });
    const ellaRequest = await codeRequest(database, ella.client, codeOf(21));
    const finnRequest = await codeRequest(database, finn.client, codeOf(22));
    // Ella asked for Finn's code too; it lands in the same push, but Finn's commit wrote it.
    const ellaCopy = await codeRequest(database, ella.client, codeOf(22));
    const gusRequest = await codeRequest(database, gus.client, codeOf(23));
    const [ellaHandle, finnHandle] = await Promise.all(
      [ellaRequest, finnRequest, ellaCopy, gusRequest].map(({ requestId }) => pendingSettlement(requestId)),
    );

    const pushedAt = new Date().toISOString();
    const commitOf = (author: string, label: string, message: string, completion: string) => ({
      sha: fakeSha(label),
      message,
      author,
      authoredAt: pushedAt,
      files: [{ filename: `routes/${label}.json`, status: 'added' as const, patch: newFilePatch([completion]) }],
    });
    const commits = [
      commitOf(
        'ella-gh',
        'ella-ledger',
        `Ledger routes\n\nTokenwise-Request: ${ellaRequest.requestId}`,
        ellaRequest.completion,
      ),
      commitOf('finn-gh', 'finn-ledger', 'More routes', finnRequest.completion),
    ];
    const push = github.addPush(repo, { commits, files: commits.flatMap((commit) => commit.files) });
    const quietCommits = [
      commitOf('gus-gh', 'gus-quiet', `Routes\n\nTokenwise-Request: ${gusRequest.requestId}`, gusRequest.completion),
      commitOf('ella-gh', 'ella-quiet', 'Tidy', ellaRequest.completion),
    ];
    const quietPush = github.addPush(quiet, { commits: quietCommits, files: quietCommits.flatMap((c) => c.files) });
    for (const [target, pushed, sender] of [
      [repo, push, 'ella-gh'],
      [quiet, quietPush, 'gus-gh'],
    ] as const) {
      const answer = await deliverWebhook({
        url: relayWorld.webhookUrl,
        secret: relayWebhookSecret,
        event: 'push',
        payload: pushPayload(target, pushed, sender),
      });
      expect(answer.status).toBe(200);
    }

    const rows: RelayedRow[] = [];
    const slug = (await findOrgSlug(database.db, { orgId: world.orgId }))!;
    const callsBefore = github.calls().length;
    const relay = startGithubRelay(
      relayWorld.relayDeps(rows, { [orgSecretVariable(slug, 'GITHUB_TOKEN')]: relayGithubToken }),
    );
    try {
      const [ellaResult, finnResult] = (await Promise.all([ellaHandle!.result(), finnHandle!.result()])) as [
        SettlementResult,
        SettlementResult,
      ];
      expect(ellaResult).toMatchObject({ status: 'settled', score: 0.5, refund: expectedRefund(ellaRequest.cost) });
      expect(finnResult).toMatchObject({ status: 'settled' });
      expect(finnResult.score).toBeGreaterThan(0);
      await until(
        async () => (rows.filter((row) => row.outcome !== undefined).length === 2 ? true : undefined),
        'both pushes relayed',
      );
      const outcomes = new Map<string, RelayedRow['outcome']>();
      for (const row of rows) {
        const evidence = await findGithubEvidence(database.db, { id: row.evidenceId });
        if (row.outcome !== undefined) outcomes.set(evidence?.mergeCommitSha as string, row.outcome);
      }
      expect(Object.fromEntries(outcomes)).toEqual({
        [push.after]: { signalled: 2, skipped: 0 },
        [quietPush.after]: { signalled: 0, skipped: 0 },
      });
      for (const [request, after] of [
        [ellaRequest, push.after],
        [finnRequest, push.after],
      ] as const) {
        expect((await evidenceOf(request.requestId)).received).toEqual([
          expect.objectContaining({
            evidenceId: githubPushEvidenceId('acme/ledger', after),
            payload: expect.objectContaining({ requestId: request.requestId, selfMerged: true }),
          }),
        ]);
      }
      // Finn's lines are not Ella's, and nothing of acme/quiet was asked of GitHub.
      for (const untouched of [ellaCopy, gusRequest]) {
        expect(await evidenceOf(untouched.requestId)).toMatchObject({ received: [], rejected: [] });
      }
      const paths = github
        .calls()
        .slice(callsBefore)
        .map((call) => call.path);
      expect(paths.filter((path) => path.includes('/acme/quiet/'))).toEqual([]);
      expect(paths.filter((path) => path.includes('/acme/ledger/commits/')).sort()).toEqual(
        commits.map((commit) => `/repos/acme/ledger/commits/${commit.sha}`).sort(),
      );
    } finally {
      await relay.stop();
    }
  });
});
