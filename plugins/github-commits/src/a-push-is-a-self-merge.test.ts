import { createSecrets, parsePluginConfig, validateScoreResult } from '@tokenwise/plugin-sdk';
import { createTestContext, makeScoreInput } from '@tokenwise/plugin-sdk/testing';
import type { GithubCommitsConfig } from './config';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  githubCommitsPluginId,
  githubEvidencePayload,
  githubEvidencePayloadSchema,
  githubPushEvidenceId,
} from './evidence';
import { githubClientForConfig, type GithubClient } from './github-client';
import { githubCommits } from './github-commits';
import { matchPullToRequests } from './match-pull';
import {
  addedPatch,
  cacheCode,
  completionOf,
  csvCode,
  patchAfterContext,
  pending,
  requestId,
  retryCode,
} from './match-test-fixtures';
import { loadPushedCode } from './pushed-code';
import { fakeSha, startLocalGithub, type GithubCommit, type GithubPullFile, type LocalGithub } from './testing';

const receivedAt = new Date('2026-12-02T12:00:00Z');

describe('a push to the default branch is code landed without review: a self-merge by its commits’ author', () => {
  let github: LocalGithub;
  let client: GithubClient;
  let repoNumber = 0;

  beforeAll(async () => {
    github = await startLocalGithub();
    github.addToken('ghs_app', 'tokenwise[bot]');
    client = githubClientForConfig(
      { tokenSecret: 'ACME_GITHUB', baseUrl: github.url },
      createSecrets({ ACME_GITHUB: 'ghs_app' }),
      createTestContext().logger,
    );
  });
  afterAll(async () => {
    await github?.close();
  });

  const commitOf = (author: string | null, index: number, message = `Step ${index}`): GithubCommit => ({
    sha: fakeSha(`${author}-${index}-${repoNumber}`),
    message,
    author,
    authoredAt: `2026-12-02T10:${String(index % 60).padStart(2, '0')}:00Z`,
  });

  /** Pushes `commits` and `files` onto a fresh repository and loads the push as the relay does. */
  async function pushed(commits: GithubCommit[], files: GithubPullFile[], status: 'ahead' | 'diverged' = 'ahead') {
    repoNumber += 1;
    const repo = github.addRepo('acme', `repo-${repoNumber}`);
    const push = github.addPush(repo, { commits, files, status });
    return loadPushedCode(client, {
      owner: 'acme',
      repo: repo.name,
      defaultBranch: 'main',
      before: push.before,
      after: push.after,
      receivedAt,
    });
  }

  it('loads the comparison across pages, skipping lockfiles, with the author as its own merger and no approval', async () => {
    const commits = [
      commitOf('ada', 0, `Retries\n\nTokenwise-Request: ${requestId(1)}`),
      ...Array.from({ length: 119 }, (_, index) => commitOf('ada', index + 1)),
    ];
    const code = await pushed(commits, [
      { filename: 'src/retry.ts', status: 'added', patch: addedPatch(retryCode) },
      { filename: 'package-lock.json', status: 'modified', patch: addedPatch('"lockfileVersion": 3,') },
    ]);
    expect(code).toMatchObject({
      repo: `acme/repo-${repoNumber}`,
      number: 0,
      push: { after: commits.at(-1)?.sha },
      merged: true,
      intoDefaultBranch: true,
      authorLogin: 'ada',
      mergedByLogin: 'ada',
      approvedByOther: false,
      skippedFiles: { lockfile: 1 },
      truncated: false,
    });
    expect(code.commits).toHaveLength(120);
    expect(code.files.map((entry) => entry.path)).toEqual(['src/retry.ts']);
    // The latest commit's date (10:59), before the push was received.
    expect(code.mergedAt).toBe('2026-12-02T10:59:00.000Z');
  });

  it('counts at the team’s selfMergeWeight: nothing at the default 0, flagged self-merged above it', async () => {
    const code = await pushed(
      [commitOf('ada', 0, `Retries\n\nTokenwise-Request: ${requestId(1)}`)],
      [{ filename: 'src/retry.ts', status: 'added', patch: addedPatch(retryCode) }],
    );
    const candidates = [pending(1, completionOf(retryCode))];
    expect(matchPullToRequests({ pull: code, candidates })).toEqual([]);
    const [match] = matchPullToRequests({ pull: code, candidates, options: { selfMergeWeight: 0.5 } });
    expect(match).toMatchObject({
      requestId: requestId(1),
      containment: 1,
      provenance: 'request',
      selfMerged: true,
      approvedByOther: false,
      pull: { repo: code.repo, number: 0, after: code.push?.after },
    });
    // The payload the relay sends passes the plugin's schema, and the plugin weighs it at each team's weight.
    const payload = githubEvidencePayload(match!);
    const score = async (selfMergeWeight: number) =>
      validateScoreResult(
        await githubCommits.score(
          makeScoreInput<GithubCommitsConfig>({
            requestId: requestId(1),
            createdAt: new Date('2026-12-01T09:00:00Z'),
            completion: completionOf(retryCode),
            config: parsePluginConfig(githubCommits, { owner: 'acme', selfMergeWeight }),
            externalEvidence: [
              {
                pluginId: githubCommitsPluginId,
                evidenceId: githubPushEvidenceId(code.repo, code.push!.after),
                source: 'github',
                observedAt: code.mergedAt!,
                payload: payload as never,
              },
            ],
          }),
          createTestContext({ now: new Date('2026-12-02T13:00:00Z') }),
        ),
      );
    expect(await score(0.5)).toMatchObject({ status: 'scored', score: 0.5, evidence: { weight: 0.5 } });
    expect(await score(0)).toMatchObject({
      status: 'pending',
      reason: expect.stringContaining('pushed straight to the default branch'),
    });
  });

  it('credits nobody when another login authored it, whoever pushed it', async () => {
    const code = await pushed(
      [commitOf('mallory', 0)],
      [{ filename: 'src/retry.ts', status: 'added', patch: addedPatch(retryCode) }],
    );
    expect(code.authorLogin).toBe('mallory');
    const candidates = [pending(1, completionOf(retryCode))];
    expect(matchPullToRequests({ pull: code, candidates, options: { selfMergeWeight: 1 } })).toEqual([]);
  });

  it('credits nobody when its commits are several logins’, or one GitHub cannot map', async () => {
    for (const authors of [
      ['ada', 'bob'],
      ['ada', null],
    ]) {
      const code = await pushed(
        authors.map((author, index) => commitOf(author, index)),
        [{ filename: 'src/retry.ts', status: 'added', patch: addedPatch(retryCode) }],
      );
      expect(code.authorLogin).toBeNull();
      const candidates = [pending(1, completionOf(retryCode))];
      expect(matchPullToRequests({ pull: code, candidates, options: { selfMergeWeight: 1 } })).toEqual([]);
    }
  });

  it('counts only the lines the push added: code already in the base matches nothing', async () => {
    const code = await pushed(
      [commitOf('ada', 0)],
      [{ filename: 'src/cache.ts', status: 'modified', patch: patchAfterContext(cacheCode, csvCode) }],
    );
    const [csv, cache] = [pending(1, completionOf(csvCode)), pending(2, completionOf(cacheCode))];
    const matches = matchPullToRequests({ pull: code, candidates: [csv, cache], options: { selfMergeWeight: 1 } });
    expect(matches.map((match) => match.requestId)).toEqual([requestId(1)]);
  });

  it('is no landing when the comparison is not a fast-forward', async () => {
    const code = await pushed(
      [commitOf('ada', 0)],
      [{ filename: 'src/retry.ts', status: 'added', patch: addedPatch(retryCode) }],
      'diverged',
    );
    expect(code).toMatchObject({ merged: false, mergedAt: null });
  });

  it('never lands later than it was received, whatever date its commits carry', async () => {
    const code = await pushed(
      [{ ...commitOf('ada', 0), authoredAt: '2027-06-01T00:00:00Z' }],
      [{ filename: 'src/retry.ts', status: 'added', patch: addedPatch(retryCode) }],
    );
    expect(code.mergedAt).toBe(receivedAt.toISOString());
  });

  it('has one evidence id per push, within the host’s bound, and a payload that names either a pull or a push', () => {
    const after = fakeSha('after');
    expect(githubPushEvidenceId('Acme/Payments', after)).toBe(`github-push-acme/payments@${after}`);
    expect(githubPushEvidenceId(`acme/${'r'.repeat(100)}`, after)).toMatch(/^github-push-[0-9a-f]{64}$/);
    const base = {
      v: 1,
      requestId: requestId(1),
      containment: 1,
      matchedTokens: 30,
      longestRunTokens: 30,
      provenance: null,
      coAuthor: false,
      selfMerged: true,
      approvedByOther: false,
    };
    const pull = { repo: 'acme/payments', url: 'https://github.com/acme/payments', mergedAt: '2026-12-02T12:00:00Z' };
    expect(githubEvidencePayloadSchema.safeParse({ ...base, pull: { ...pull, number: 0, after } }).success).toBe(true);
    expect(githubEvidencePayloadSchema.safeParse({ ...base, pull: { ...pull, number: 3 } }).success).toBe(true);
    expect(githubEvidencePayloadSchema.safeParse({ ...base, pull: { ...pull, number: 0 } }).success).toBe(false);
    expect(githubEvidencePayloadSchema.safeParse({ ...base, pull: { ...pull, number: 3, after } }).success).toBe(false);
    expect(
      githubEvidencePayloadSchema.safeParse({ ...base, pull: { ...pull, number: 0, after: 'HEAD' } }).success,
    ).toBe(false);
  });
});
