import { retry } from '@octokit/plugin-retry';
import { throttling } from '@octokit/plugin-throttling';
import { Octokit } from '@octokit/rest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fakeSha, startLocalGithub, type LocalGithub } from './index';

const Client = Octokit.plugin(throttling, retry);

describe('the local GitHub, driven by the real @octokit/rest with the throttling and retry plugins', () => {
  let github: LocalGithub;
  const limits: { primary: number[]; secondary: number[] } = { primary: [], secondary: [] };
  const client = (token: string) =>
    new Client({
      auth: token,
      baseUrl: github.url,
      throttle: {
        onRateLimit: (retryAfter: number, _options: unknown, _octokit: unknown, retryCount: number) => {
          limits.primary.push(retryAfter);
          return retryCount < 1;
        },
        onSecondaryRateLimit: (retryAfter: number) => {
          limits.secondary.push(retryAfter);
          return true;
        },
      },
      retry: { doNotRetry: [400, 401, 403, 404, 422, 429, 304] },
    });

  beforeAll(async () => {
    github = await startLocalGithub();
    github.addToken('ghp_ada', 'ada');
    const repo = github.addRepo('acme', 'payments');
    github.addPull(repo, {
      number: 7,
      user: 'ada',
      mergedAt: '2026-12-01T10:00:00Z',
      mergedBy: 'grace',
      reviews: [{ id: 1, user: 'grace', state: 'APPROVED', submittedAt: '2026-12-01T09:00:00Z' }],
      commits: [
        {
          sha: 'a'.repeat(40),
          message: 'Retry budget\n\nTokenwise-Session: sess-1',
          author: 'ada',
          authoredAt: '2026-12-01T08:00:00Z',
        },
      ],
      files: Array.from({ length: 250 }, (_, index) => ({
        filename: `src/file-${index}.ts`,
        status: 'added' as const,
        patch: `@@ -0,0 +1,2 @@\n+export const value${index} = ${index};\n+export default value${index};`,
      })),
    });
    github.addPull(repo, { number: 8, user: 'ray', files: [] });
  });
  afterAll(async () => {
    await github?.close();
  });

  it('serves merged pull requests, their reviews and commits in the shapes octokit types', async () => {
    const octokit = client('ghp_ada');
    const { data: repo } = await octokit.rest.repos.get({ owner: 'acme', repo: 'payments' });
    expect(repo).toMatchObject({ full_name: 'acme/payments', default_branch: 'main', private: true });
    const { data: closed } = await octokit.rest.pulls.list({
      owner: 'acme',
      repo: 'payments',
      state: 'closed',
      base: 'main',
    });
    expect(closed.map((pull) => [pull.number, pull.merged_at, pull.user?.login])).toEqual([
      [7, '2026-12-01T10:00:00Z', 'ada'],
    ]);
    const { data: pull } = await octokit.rest.pulls.get({ owner: 'acme', repo: 'payments', pull_number: 7 });
    expect(pull).toMatchObject({
      merged: true,
      merged_by: { login: 'grace' },
      base: { ref: 'main' },
      changed_files: 250,
    });
    expect(pull.merge_commit_sha).toMatch(/^[0-9a-f]{40}$/);
    const { data: reviews } = await octokit.rest.pulls.listReviews({ owner: 'acme', repo: 'payments', pull_number: 7 });
    expect(reviews.map((entry) => [entry.user?.login, entry.state])).toEqual([['grace', 'APPROVED']]);
    const { data: commits } = await octokit.rest.pulls.listCommits({ owner: 'acme', repo: 'payments', pull_number: 7 });
    expect(commits[0]?.commit.message).toContain('Tokenwise-Session: sess-1');
    const missing = await octokit.rest.pulls
      .get({ owner: 'acme', repo: 'payments', pull_number: 99 })
      .catch((e: unknown) => e);
    expect(missing).toMatchObject({ status: 404 });
  });

  it('pages through Link headers: 250 files in three pages of 100, each with its patch', async () => {
    const octokit = client('ghp_ada');
    const before = github.calls().length;
    const files = await octokit.paginate(octokit.rest.pulls.listFiles, {
      owner: 'acme',
      repo: 'payments',
      pull_number: 7,
      per_page: 100,
    });
    expect(files).toHaveLength(250);
    expect(new Set(files.map((file) => file.filename)).size).toBe(250);
    expect(files[249]?.patch).toContain('+export const value249 = 249;');
    // The first page as asked, then each next page from the Link header.
    expect(
      github
        .calls()
        .slice(before)
        .map((call) => call.query.page),
    ).toEqual([undefined, '2', '3']);
  });

  it('compares a push before...after: commits paged by Link, files with their patch on the first page only', async () => {
    const octokit = client('ghp_ada');
    const repo = github.addRepo('acme', 'pushed');
    const push = github.addPush(repo, {
      commits: Array.from({ length: 120 }, (_, index) => ({
        sha: fakeSha(`push-${index}`),
        message: index === 0 ? 'Parser\n\nTokenwise-Request: req_1' : `Step ${index}`,
        author: 'ada',
        authoredAt: `2026-12-01T10:${String(index % 60).padStart(2, '0')}:00Z`,
      })),
      files: [{ filename: 'src/parser.ts', status: 'added', patch: '@@ -0,0 +1,1 @@\n+export const parse = 1;' }],
    });
    const basehead = `${push.before}...${push.after}`;
    const { data: whole } = await octokit.rest.repos.compareCommitsWithBasehead({
      owner: 'acme',
      repo: 'pushed',
      basehead,
    });
    expect(whole).toMatchObject({ status: 'ahead', ahead_by: 120, behind_by: 0, total_commits: 120 });
    expect(whole.commits).toHaveLength(120);
    expect(whole.base_commit.sha).toBe(push.before);
    expect(whole.files?.map((file) => [file.filename, file.status, file.additions, file.patch])).toEqual([
      ['src/parser.ts', 'added', 1, '@@ -0,0 +1,1 @@\n+export const parse = 1;'],
    ]);
    expect(whole.commits[0]).toMatchObject({
      sha: fakeSha('push-0'),
      author: { login: 'ada' },
      commit: {
        message: expect.stringContaining('Tokenwise-Request: req_1'),
        committer: { date: '2026-12-01T10:00:00Z' },
      },
    });

    const first = await octokit.rest.repos.compareCommitsWithBasehead({
      owner: 'acme',
      repo: 'pushed',
      basehead,
      per_page: 100,
      page: 1,
    });
    expect(first.data.commits).toHaveLength(100);
    expect(first.headers.link).toContain('rel="next"');
    const second = await octokit.rest.repos.compareCommitsWithBasehead({
      owner: 'acme',
      repo: 'pushed',
      basehead,
      per_page: 100,
      page: 2,
    });
    expect(second.data.commits.map((entry) => entry.sha)).toEqual(
      Array.from({ length: 20 }, (_, index) => fakeSha(`push-${index + 100}`)),
    );
    expect(second.data.files).toEqual([]);
    const unknown = await octokit.rest.repos
      .compareCommitsWithBasehead({ owner: 'acme', repo: 'pushed', basehead: `${push.after}...${push.before}` })
      .catch((error: unknown) => error);
    expect(unknown).toMatchObject({ status: 404 });
  });

  it('serves a single commit with its own files diffed against its parent, and 422 for a sha it does not know', async () => {
    const octokit = client('ghp_ada');
    const repo = github.addRepo('acme', 'commits');
    const patch = '@@ -1 +1,2 @@\n context\n+export const added = 1;';
    github.addPush(repo, {
      commits: [
        {
          sha: fakeSha('single-1'),
          message: 'Add a constant',
          author: 'ada',
          authoredAt: '2026-12-01T10:00:00Z',
          files: [{ filename: 'src/constants.ts', status: 'modified', patch }],
        },
      ],
      files: [],
    });
    const { data } = await octokit.rest.repos.getCommit({ owner: 'acme', repo: 'commits', ref: fakeSha('single-1') });
    expect(data).toMatchObject({
      sha: fakeSha('single-1'),
      author: { login: 'ada' },
      commit: { message: 'Add a constant' },
      stats: { additions: 1, deletions: 0, total: 1 },
    });
    expect(data.files?.map((file) => [file.filename, file.status, file.additions, file.patch])).toEqual([
      ['src/constants.ts', 'modified', 1, patch],
    ]);
    const unknown = await octokit.rest.repos
      .getCommit({ owner: 'acme', repo: 'commits', ref: fakeSha('never-pushed') })
      .catch((error: unknown) => error);
    expect(unknown).toMatchObject({ status: 422, message: expect.stringContaining('No commit found for SHA') });
  });

  it('answers a matching If-None-Match with 304, which costs no rate limit', async () => {
    const octokit = client('ghp_ada');
    const first = await octokit.rest.pulls.get({ owner: 'acme', repo: 'payments', pull_number: 7 });
    const etag = first.headers.etag as string;
    const remaining = Number(first.headers['x-ratelimit-remaining']);
    const again = await octokit.rest.pulls
      .get({ owner: 'acme', repo: 'payments', pull_number: 7, headers: { 'if-none-match': etag } })
      .catch((error: unknown) => error as { status: number; response?: { headers: Record<string, string> } });
    expect(again).toMatchObject({ status: 304 });
    const after = await octokit.rest.pulls.get({ owner: 'acme', repo: 'payments', pull_number: 8 });
    expect(Number(after.headers['x-ratelimit-remaining'])).toBe(remaining - 1);
  });

  it('has the throttling plugin wait out a secondary limit (Retry-After) and a spent primary limit (its reset)', async () => {
    github.addToken('ghp_busy', 'ray');
    const octokit = client('ghp_busy');
    github.failNext(/\/pulls\/8$/, { kind: 'secondary', retryAfterSeconds: 1, status: 429 });
    let started = Date.now();
    const { data } = await octokit.rest.pulls.get({ owner: 'acme', repo: 'payments', pull_number: 8 });
    expect(data.number).toBe(8);
    expect(limits.secondary).toEqual([1]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);

    github.exhaust('ghp_busy', 1);
    started = Date.now();
    const { data: repo } = await octokit.rest.repos.get({ owner: 'acme', repo: 'payments' });
    expect(repo.name).toBe('payments');
    expect(limits.primary).toHaveLength(1);
    expect(Date.now() - started).toBeGreaterThanOrEqual(500);
  });

  it('runs the OAuth device flow: pending, slow_down when polled too fast, then a token of the approving user', async () => {
    github.addOAuthClient('Iv1.tokenwise');
    const post = async (path: string, body: Record<string, string>) =>
      (await (
        await fetch(`${github.url}${path}`, {
          method: 'POST',
          headers: { accept: 'application/json', 'content-type': 'application/json' },
          body: JSON.stringify(body),
        })
      ).json()) as Record<string, string | number>;
    const code = await post('/login/device/code', { client_id: 'Iv1.tokenwise', scope: 'read:user' });
    expect(code).toMatchObject({ verification_uri: `${github.url}/login/device`, interval: 5, expires_in: 900 });
    expect(code.user_code).toMatch(/^[A-Z]{4}-[A-Z]{4}$/);
    const poll = () =>
      post('/login/oauth/access_token', {
        client_id: 'Iv1.tokenwise',
        device_code: String(code.device_code),
        grant_type: 'urn:ietf:params:oauth:grant-type:device_code',
      });
    expect(await poll()).toEqual({ error: 'authorization_pending' });
    expect(await poll()).toEqual({ error: 'slow_down', interval: 10 });
    expect(github.approveDevice(String(code.user_code), 'ada')).toBe(true);
    github.state.deviceCodes.get(String(code.device_code))!.lastPollMs = 0; // the client waited its interval
    const token = await poll();
    expect(token).toMatchObject({ token_type: 'bearer', access_token: expect.stringMatching(/^gho_/) });
    const { data: me } = await client(String(token.access_token)).rest.users.getAuthenticated();
    expect(me.login).toBe('ada');
    const wrongClient = await post('/login/oauth/access_token', {
      client_id: 'Iv1.other',
      device_code: String(code.device_code),
      grant_type: 'urn:ietf:params:oauth:grant-type:device_code',
    });
    expect(wrongClient).toEqual({ error: 'incorrect_client_credentials' });
  });

  it('serves the page where a person enters the code: approving there issues a token of that login, once', async () => {
    github.addOAuthClient('Iv1.page');
    const json = { accept: 'application/json', 'content-type': 'application/json' };
    const code = (await (
      await fetch(`${github.url}/login/device/code`, {
        method: 'POST',
        headers: json,
        body: JSON.stringify({ client_id: 'Iv1.page' }),
      })
    ).json()) as { device_code: string; user_code: string; verification_uri: string };
    const shown = await fetch(code.verification_uri);
    expect(shown.status).toBe(200);
    expect(await shown.text()).toMatch(/<form method="post" action="\/login\/device">/);
    const send = async (fields: Record<string, string>) => {
      const response = await fetch(code.verification_uri, { method: 'POST', body: new URLSearchParams(fields) });
      return { status: response.status, text: await response.text() };
    };
    // Bad input: what to fix is said, nothing is decided, and what was typed comes back escaped.
    const unknown = await send({ user_code: 'ZZZZ-<b>', login: 'ray-gh', decision: 'approve' });
    expect(unknown).toMatchObject({
      status: 404,
      text: expect.stringMatching(/No device is waiting for code ZZZZ-&#60;B&#62;/),
    });
    expect(await send({ user_code: code.user_code, login: '-not a login', decision: 'approve' })).toMatchObject({
      status: 400,
      text: expect.stringMatching(/letters, digits or single hyphens/),
    });
    const poll = async () =>
      (await (
        await fetch(`${github.url}/login/oauth/access_token`, {
          method: 'POST',
          headers: json,
          body: JSON.stringify({
            client_id: 'Iv1.page',
            device_code: code.device_code,
            grant_type: 'urn:ietf:params:oauth:grant-type:device_code',
          }),
        })
      ).json()) as Record<string, string>;
    expect(await poll()).toEqual({ error: 'authorization_pending' });
    // Typed in lower case, as people do.
    const approved = await send({ user_code: code.user_code.toLowerCase(), login: 'ray-gh', decision: 'approve' });
    expect(approved).toMatchObject({ status: 200, text: expect.stringMatching(/Approved as ray-gh/) });
    expect(await send({ user_code: code.user_code, login: 'eve-gh', decision: 'approve' })).toMatchObject({
      status: 409,
    });
    github.state.deviceCodes.get(code.device_code)!.lastPollMs = 0; // the client waited its interval
    const token = await poll();
    const { data: me } = await client(String(token.access_token)).rest.users.getAuthenticated();
    expect(me.login).toBe('ray-gh');
  });
});
