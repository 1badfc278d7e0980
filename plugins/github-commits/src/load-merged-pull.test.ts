import { createTestContext } from '@tokenwise/plugin-sdk/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSecrets } from '@tokenwise/plugin-sdk';
import { githubClientForConfig, type GithubClient } from './github-client';
import { matchPullToRequests } from './match-pull';
import { addedPatch, completionOf, pending, requestId, retryCode } from './match-test-fixtures';
import { listMergedPullsSince, loadMergedPull, pullPatchLinesMax } from './merged-pull';
import { startLocalGithub, type LocalGithub } from './testing';

describe('loadMergedPull and listMergedPullsSince against the local GitHub', () => {
  let github: LocalGithub;
  let client: GithubClient;

  beforeAll(async () => {
    github = await startLocalGithub();
    github.addToken('ghs_app', 'tokenwise[bot]');
    // As the relay builds it: the token from the secret the team's config names.
    client = githubClientForConfig(
      { tokenSecret: 'ACME_GITHUB', baseUrl: github.url },
      createSecrets({ ACME_GITHUB: 'ghs_app' }),
      createTestContext().logger,
    );
    const payments = github.addRepo('acme', 'payments');
    github.addPull(payments, {
      number: 7,
      user: 'ada',
      createdAt: '2026-12-01T08:00:00Z',
      mergedAt: '2026-12-02T12:00:00Z',
      mergedBy: 'ada',
      reviews: [
        { id: 1, user: 'grace', state: 'CHANGES_REQUESTED', submittedAt: '2026-12-01T10:00:00Z' },
        { id: 2, user: 'grace', state: 'APPROVED', submittedAt: '2026-12-02T10:00:00Z' },
        { id: 3, user: 'grace', state: 'COMMENTED', submittedAt: '2026-12-02T11:00:00Z' },
      ],
      commits: [
        {
          sha: 'a'.repeat(40),
          message: `Retries\n\nTokenwise-Request: ${requestId(1)}`,
          author: 'ada',
          authoredAt: '2026-12-01T09:00:00Z',
        },
      ],
      files: [
        { filename: 'src/retry.ts', status: 'added', patch: addedPatch(retryCode) },
        { filename: 'package-lock.json', status: 'modified', patch: addedPatch('"lockfileVersion": 3,') },
        { filename: 'vendor/lib.js', status: 'added', patch: addedPatch('var a = 1;') },
        { filename: 'public/app.min.js', status: 'added', patch: addedPatch('!function(){}()') },
        { filename: 'src/api/__generated__/types.ts', status: 'added', patch: addedPatch('export type A = 1;') },
        { filename: 'logo.png', status: 'added' },
        ...Array.from({ length: 120 }, (_, index) => ({
          filename: `src/n${index}.ts`,
          status: 'added' as const,
          patch: addedPatch(`export const n${index} = ${index};`),
        })),
      ],
    });
    github.addPull(payments, {
      number: 8,
      user: 'ada',
      mergedAt: '2026-12-03T12:00:00Z',
      baseRef: 'release',
      files: [],
    });
    github.addPull(payments, { number: 9, user: 'bob', mergedAt: '2026-12-03T13:00:00Z', files: [] });
    github.addPull(payments, { number: 10, user: 'ada', files: [] });
    github.addPull(payments, { number: 11, user: 'ada', mergedAt: '2026-11-20T12:00:00Z', files: [] });
    const ledger = github.addRepo('acme', 'ledger', { defaultBranch: 'trunk' });
    github.addPull(ledger, { number: 1, user: 'ada', mergedAt: '2026-12-04T12:00:00Z', files: [] });
  });
  afterAll(async () => {
    await github?.close();
  });

  it('loads what matching needs, across pages, skipping lockfiles, vendored, minified, generated and binary files', async () => {
    const pull = await loadMergedPull(client, { owner: 'acme', repo: 'payments', pullNumber: 7 });
    expect(pull).toMatchObject({
      repo: 'acme/payments',
      number: 7,
      url: 'https://github.com/acme/payments/pull/7',
      merged: true,
      mergedAt: '2026-12-02T12:00:00Z',
      intoDefaultBranch: true,
      authorLogin: 'ada',
      mergedByLogin: 'ada',
      approvedByOther: true,
      skippedFiles: { lockfile: 1, vendored: 1, minified: 1, generated: 1, binary: 1 },
      truncated: false,
    });
    expect(pull.files.map((entry) => entry.path)).toHaveLength(121);
    expect(pull.files[0]?.path).toBe('src/retry.ts');
    expect(pull.commits).toEqual([
      {
        sha: 'a'.repeat(40),
        message: expect.stringContaining(`Tokenwise-Request: ${requestId(1)}`),
        authorLogin: 'ada',
      },
    ]);
    const [match] = matchPullToRequests({ pull, candidates: [pending(1, completionOf(retryCode))] });
    expect(match).toMatchObject({ provenance: 'request', containment: 1, selfMerged: true, approvedByOther: true });
  });

  it('loads nothing more of a pull request merged elsewhere than the default branch', async () => {
    const before = github.calls().length;
    const pull = await loadMergedPull(client, { owner: 'acme', repo: 'payments', pullNumber: 8 });
    expect(pull).toMatchObject({ merged: true, intoDefaultBranch: false, files: [], commits: [] });
    expect(github.calls().length - before).toBe(1);
  });

  it('cuts a pull request at the patch line budget and says so', async () => {
    const repo = github.addRepo('acme', 'huge');
    const lines = Array.from({ length: 30_000 }, (_, index) => `const v${index} = ${index};`).join('\n');
    github.addPull(repo, {
      number: 1,
      user: 'ada',
      mergedAt: '2026-12-02T12:00:00Z',
      files: ['a', 'b'].map((name) => ({
        filename: `src/${name}.ts`,
        status: 'added' as const,
        patch: addedPatch(lines),
      })),
    });
    const pull = await loadMergedPull(client, { owner: 'acme', repo: 'huge', pullNumber: 1 });
    expect(pull.truncated).toBe(true);
    expect(pull.files.reduce((sum, entry) => sum + entry.patch.split('\n').length, 0)).toBe(pullPatchLinesMax);
  });

  it("lists the pull requests merged into each repository's default branch since an instant, by author", async () => {
    const since = new Date('2026-12-01T00:00:00Z');
    const { pulls } = await listMergedPullsSince(client, { owner: 'acme', since });
    expect(pulls.map((pull) => `${pull.repo}#${pull.number}`).sort()).toEqual([
      'acme/huge#1',
      'acme/ledger#1',
      'acme/payments#7',
      'acme/payments#9',
    ]);
    const { pulls: ada } = await listMergedPullsSince(client, {
      owner: 'acme',
      repo: 'payments',
      since,
      author: 'ADA',
    });
    expect(ada.map((pull) => [pull.number, pull.mergedAt, pull.authorLogin])).toEqual([
      [7, '2026-12-02T12:00:00Z', 'ada'],
    ]);
  });
});
