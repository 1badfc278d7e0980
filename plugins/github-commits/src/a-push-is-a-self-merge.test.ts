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
import { extractBaseLines } from './base-lines';
import { matchPullToRequests } from './match-pull';
import type { MergedPull } from './merged-pull';
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
import { extractAddedLines } from '@tokenwise/core';
import { loadPushedCode, loadPushedCodeByAuthor, pushSplitCommitsMax, slicePatch } from './pushed-code';
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

  /** Pushes `commits` and `files` onto a fresh repository: the ref the relay loads it by. */
  function pushRef(commits: GithubCommit[], files: GithubPullFile[], status: 'ahead' | 'diverged' = 'ahead') {
    repoNumber += 1;
    const repo = github.addRepo('acme', `repo-${repoNumber}`);
    const push = github.addPush(repo, { commits, files, status });
    return {
      owner: 'acme',
      repo: repo.name,
      defaultBranch: 'main',
      before: push.before,
      after: push.after,
      receivedAt,
    };
  }
  /** Pushes and loads the push as one. */
  const pushed = (commits: GithubCommit[], files: GithubPullFile[], status: 'ahead' | 'diverged' = 'ahead') =>
    loadPushedCode(client, pushRef(commits, files, status));

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

  /** Pushes and loads the push per author, as the relay does; `log` gets its lines. */
  const pushedByAuthor = (commits: GithubCommit[], files: GithubPullFile[], log: string[] = []) =>
    loadPushedCodeByAuthor(client, pushRef(commits, files), (line) => log.push(line));
  const addedTexts = (slice: { files: readonly { path: string; patch: string }[] }) =>
    slice.files.flatMap((entry) =>
      extractAddedLines(entry.patch, entry.path).map((line) => `${entry.path}:${line.line}:${line.text}`),
    );
  const numbered = (path: string, code: string, first: number) =>
    code.split('\n').map((text, index) => `${path}:${first + index}:${text}`);

  it('gives each author of a push of several authors’ commits the landed lines their own commits added, at their line numbers', async () => {
    const retryLines = retryCode.split('\n').length;
    const cacheLines = cacheCode.split('\n').length;
    const commits = [
      {
        ...commitOf('ada', 0, `Retries\n\nTokenwise-Request: ${requestId(1)}`),
        files: [
          { filename: 'src/cache.ts', status: 'modified' as const, patch: patchAfterContext(cacheCode, retryCode) },
        ],
      },
      {
        ...commitOf('bob', 1),
        files: [
          {
            filename: 'src/cache.ts',
            status: 'modified' as const,
            patch: patchAfterContext(`${cacheCode}\n${retryCode}`, csvCode),
          },
        ],
      },
    ];
    // The comparison: one diff of both commits' lines below the base's cache.
    const code = await pushedByAuthor(commits, [
      { filename: 'src/cache.ts', status: 'modified', patch: patchAfterContext(cacheCode, `${retryCode}\n${csvCode}`) },
    ]);
    expect(
      code.map((slice) => [slice.authorLogin, slice.mergedByLogin, slice.commits.map((entry) => entry.sha)]),
    ).toEqual([
      ['ada', 'ada', [commits[0]!.sha]],
      ['bob', 'bob', [commits[1]!.sha]],
    ]);
    const [ada, bob] = code as [MergedPull, MergedPull];
    // A line each author's commits added, such as a lone `}`, is each one's: Ada's retry and Bob's
    // parser both end with `  }` and `}`. Every kept line keeps its number in the file.
    const csvAt = cacheLines + retryLines + 1;
    expect(addedTexts(ada)).toEqual([
      ...numbered('src/cache.ts', retryCode, cacheLines + 1),
      `src/cache.ts:${csvAt + 10}:  }`,
      `src/cache.ts:${csvAt + 13}:}`,
    ]);
    expect(addedTexts(bob)).toEqual([
      `src/cache.ts:${csvAt - 2}:  }`,
      `src/cache.ts:${csvAt - 1}:}`,
      ...numbered('src/cache.ts', csvCode, csvAt),
    ]);
    expect(ada.mergedAt).toBe('2026-12-02T10:00:00.000Z');
    expect(bob.mergedAt).toBe('2026-12-02T10:01:00.000Z');

    // Ada asked for both blocks, but wrote only the retry: Bob's CSV parser is not hers, and the
    // cache was in the base before either of them.
    const candidates = [
      pending(1, completionOf(retryCode)),
      pending(2, completionOf(csvCode)),
      pending(3, completionOf(cacheCode)),
      pending(4, completionOf(csvCode), { userGithubLogin: 'bob' }),
      pending(5, completionOf(retryCode), { userGithubLogin: 'bob' }),
    ];
    const matched = (slice: MergedPull) =>
      matchPullToRequests({ pull: slice, candidates, options: { selfMergeWeight: 1 } }).map((match) => [
        match.requestId,
        match.provenance,
        match.selfMerged,
      ]);
    expect(matched(ada)).toEqual([[requestId(1), 'request', true]]);
    expect(matched(bob)).toEqual([[requestId(4), null, true]]);
  });

  it('credits a line rewritten by another author to the rewriter, gives lines of unmapped commits to nobody, and keeps files apart', async () => {
    const limitOf = (value: number) => `export const retryLimit = ${value};`;
    const commits = [
      {
        ...commitOf('ada', 0),
        files: [
          { filename: 'src/limits.ts', status: 'added' as const, patch: addedPatch(limitOf(10)) },
          { filename: 'src/retry.ts', status: 'added' as const, patch: addedPatch(retryCode) },
        ],
      },
      {
        ...commitOf('bob', 1),
        files: [
          {
            filename: 'src/limits.ts',
            status: 'modified' as const,
            patch: `@@ -1 +1 @@\n-${limitOf(10)}\n+${limitOf(20)}`,
          },
        ],
      },
      // GitHub maps this commit's email to nobody: its CSV parser is nobody's, even where Ada's
      // commit added the same text to another file.
      {
        ...commitOf(null, 2),
        files: [{ filename: 'src/csv.ts', status: 'added' as const, patch: addedPatch(csvCode) }],
      },
      {
        ...commitOf('ada', 3),
        files: [{ filename: 'src/retry-csv.ts', status: 'added' as const, patch: addedPatch(csvCode) }],
      },
    ];
    const code = await pushedByAuthor(commits, [
      { filename: 'src/csv.ts', status: 'added', patch: addedPatch(csvCode) },
      { filename: 'src/limits.ts', status: 'added', patch: addedPatch(limitOf(20)) },
      { filename: 'src/retry-csv.ts', status: 'added', patch: addedPatch(csvCode) },
      { filename: 'src/retry.ts', status: 'added', patch: addedPatch(retryCode) },
    ]);
    const byLogin = Object.fromEntries(code.map((slice) => [slice.authorLogin, addedTexts(slice)]));
    expect(Object.keys(byLogin)).toEqual(['ada', 'bob']);
    expect(byLogin.ada).toEqual([
      ...numbered('src/retry-csv.ts', csvCode, 1),
      ...numbered('src/retry.ts', retryCode, 1),
    ]);
    expect(byLogin.bob).toEqual([`src/limits.ts:1:${limitOf(20)}`]);
  });

  it('credits nobody for a push of several authors with more commits than are read one by one, and asks GitHub for none of them', async () => {
    const log: string[] = [];
    const before = github.calls().length;
    const code = await pushedByAuthor(
      Array.from({ length: pushSplitCommitsMax + 1 }, (_, index) => ({
        ...commitOf(index % 2 === 0 ? 'ada' : 'bob', index),
        files: [{ filename: `src/step-${index}.ts`, status: 'added' as const, patch: addedPatch(`step(${index});`) }],
      })),
      [{ filename: 'src/retry.ts', status: 'added', patch: addedPatch(retryCode) }],
      log,
    );
    expect(code).toHaveLength(1);
    expect(code[0]).toMatchObject({ authorLogin: null, mergedByLogin: null });
    expect(log).toEqual([expect.stringContaining(`${pushSplitCommitsMax + 1} commits by several authors`)]);
    expect(
      github
        .calls()
        .slice(before)
        .filter((call) => call.path.includes('/commits/')),
    ).toEqual([]);
  });

  it('loads one author’s push once, without reading its commits one by one', async () => {
    const before = github.calls().length;
    const code = await pushedByAuthor(
      [commitOf('ada', 0), commitOf('ada', 1)],
      [{ filename: 'src/retry.ts', status: 'added', patch: addedPatch(retryCode) }],
    );
    expect(code.map((slice) => slice.authorLogin)).toEqual(['ada']);
    expect(
      github
        .calls()
        .slice(before)
        .map((call) => call.path),
    ).toEqual([expect.stringMatching(/\/compare\/[0-9a-f]+\.\.\.[0-9a-f]+$/)]);
  });

  it('slices a patch without losing a kept line’s numbers, or the base lines around them', () => {
    const patch = [
      '@@ -3,4 +3,7 @@',
      ' keep context',
      '+mine one',
      '+theirs',
      '-removed base line',
      '+mine two',
      ' more context',
      '+theirs too',
      ' last context',
      '\\ No newline at end of file',
    ].join('\n');
    const sliced = slicePatch(patch, (text) => text.startsWith('mine'));
    expect(extractAddedLines(sliced)).toEqual([
      { path: undefined, line: 4, text: 'mine one' },
      { path: undefined, line: 6, text: 'mine two' },
    ]);
    expect(extractAddedLines(patch).filter((line) => line.text.startsWith('mine'))).toEqual(extractAddedLines(sliced));
    expect(extractBaseLines(sliced)).toEqual(extractBaseLines(patch));
    expect(slicePatch(patch, () => true)).toBe(['@@ -3,4 +3,7 @@', ...patch.split('\n').slice(1)].join('\n'));
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
