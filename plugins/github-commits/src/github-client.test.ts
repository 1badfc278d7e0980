import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createTestContext } from '@tokenwise/plugin-sdk/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGithubClient, GithubRateLimitError } from './github-client';
import { startLocalGithub, type LocalGithub } from './testing';

describe('createGithubClient against the local GitHub', () => {
  let github: LocalGithub;
  const context = createTestContext();
  const client = (token: string, extra: { baseUrl?: string } = {}) =>
    createGithubClient({ token, baseUrl: github.url, log: context.logger, retryAfterBaseMs: 50, ...extra });

  beforeAll(async () => {
    github = await startLocalGithub();
    const repo = github.addRepo('acme', 'payments');
    github.addPull(repo, {
      number: 1,
      user: 'ada',
      mergedAt: '2026-12-01T10:00:00Z',
      files: Array.from({ length: 230 }, (_, index) => ({
        filename: `src/f${index}.ts`,
        status: 'added' as const,
        patch: `@@ -0,0 +1 @@\n+export const v${index} = ${index};`,
      })),
    });
  });
  afterAll(async () => {
    await github?.close();
  });

  it('pages through Link headers', async () => {
    github.addToken('ghp_pages', 'ada');
    const octokit = client('ghp_pages');
    const files = await octokit.paginate(octokit.rest.pulls.listFiles, {
      owner: 'acme',
      repo: 'payments',
      pull_number: 1,
      per_page: 100,
    });
    expect(files.map((file) => file.filename)).toHaveLength(230);
    expect(files[229]?.patch).toContain('v229');
  });

  it('sends If-None-Match on a repeated GET and serves the 304 from its cache, free against the rate limit', async () => {
    github.addToken('ghp_etag', 'ada', 100);
    const octokit = client('ghp_etag');
    const first = await octokit.rest.pulls.get({ owner: 'acme', repo: 'payments', pull_number: 1 });
    const second = await octokit.rest.pulls.get({ owner: 'acme', repo: 'payments', pull_number: 1 });
    expect(second.status).toBe(200);
    expect(second.data).toEqual(first.data);
    const calls = github.calls().filter((call) => call.token === 'ghp_etag');
    expect(calls.map((call) => call.status)).toEqual([200, 304]);
    expect(calls[1]?.ifNoneMatch).toBe(first.headers.etag);
    expect(github.state.tokens.get('ghp_etag')?.remaining).toBe(99);
    // The 304 is logged as what it is: an answer from the cache, not a failed request.
    const etagLogs = context.logs.filter((entry) => entry.message.includes('/repos/acme/payments/pulls/1 '));
    expect(etagLogs.filter((entry) => entry.message.includes(' - 304 ')).map((entry) => entry.level)).toEqual(['info']);
    expect(etagLogs.filter((entry) => entry.level === 'error')).toEqual([]);
    // A changed pull request is fetched afresh.
    github.state.repos.get('acme/payments')!.pulls.get(1)!.title = 'Renamed';
    const third = await octokit.rest.pulls.get({ owner: 'acme', repo: 'payments', pull_number: 1 });
    expect(third.data.title).toBe('Renamed');
  });

  it('keeps its ETag cache bounded, per client', async () => {
    github.addToken('ghp_small', 'ada');
    const octokit = createGithubClient({
      token: 'ghp_small',
      baseUrl: github.url,
      log: context.logger,
      etagCacheEntriesMax: 1,
    });
    for (const page of [1, 2, 3, 1]) {
      await octokit.rest.pulls.listFiles({ owner: 'acme', repo: 'payments', pull_number: 1, per_page: 100, page });
    }
    // Page 1 was evicted by pages 2 and 3 (one entry, plus setBounded's slack of one): asked again without If-None-Match.
    const calls = github.calls().filter((call) => call.token === 'ghp_small');
    expect(calls.map((call) => call.ifNoneMatch === null)).toEqual([true, true, true, true]);
    // Another client (another token) never gets this client's cached answers.
    github.addToken('ghp_other', 'ada');
    await client('ghp_other').rest.pulls.listFiles({ owner: 'acme', repo: 'payments', pull_number: 1, per_page: 100 });
    expect(github.calls().at(-1)).toMatchObject({ token: 'ghp_other', ifNoneMatch: null, status: 200 });
  });

  it('waits out secondary limits, 403 and 429 with retry-after, and succeeds', async () => {
    github.addToken('ghp_secondary', 'ada');
    const octokit = client('ghp_secondary');
    github.failNext(/\/pulls\/1$/, { kind: 'secondary', status: 403, retryAfterSeconds: 2 });
    github.failNext(/\/pulls\/1$/, { kind: 'secondary', status: 429, retryAfterSeconds: 1 });
    const started = Date.now();
    const { data } = await octokit.rest.pulls.get({ owner: 'acme', repo: 'payments', pull_number: 1 });
    expect(data.number).toBe(1);
    // retry-after 2 s then 1 s, at 50 ms per second in this test.
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
    const statuses = github
      .calls()
      .filter((call) => call.token === 'ghp_secondary')
      .map((call) => call.status);
    expect(statuses).toEqual([403, 429, 200]);
  });

  it('gives up on a secondary limit that keeps coming, with an error that says to slow down', async () => {
    github.addToken('ghp_hammered', 'ada');
    github.failNext(/\/pulls\/1$/, { kind: 'secondary', status: 429, retryAfterSeconds: 1 }, 10);
    const error = await client('ghp_hammered')
      .rest.pulls.get({ owner: 'acme', repo: 'payments', pull_number: 1 })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(GithubRateLimitError);
    expect(error).toMatchObject({ limit: 'secondary', retryAfterSeconds: 1 });
    expect(github.calls().filter((call) => call.token === 'ghp_hammered')).toHaveLength(3);
    github.state.faults.length = 0;
  });

  it('fails at once with a clear error when the primary limit is spent for longer than it will wait', async () => {
    github.addToken('ghp_spent', 'ada');
    github.exhaust('ghp_spent', 3_600);
    const error = await client('ghp_spent')
      .rest.repos.get({ owner: 'acme', repo: 'payments' })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(GithubRateLimitError);
    expect((error as GithubRateLimitError).limit).toBe('primary');
    expect((error as GithubRateLimitError).retryAfterSeconds).toBeGreaterThan(3_500);
    expect((error as Error).message).toMatch(/primary rate limit for this token is spent .* resets at \d{4}-/);
    expect((error as Error).message).not.toContain('ghp_spent');
    expect(github.calls().filter((call) => call.token === 'ghp_spent')).toHaveLength(1);
  });

  it('retries a server error a bounded number of times', async () => {
    github.addToken('ghp_flaky', 'ada');
    github.failNext(/\/repos\/acme\/payments$/, { kind: 'status', status: 502, message: 'Bad gateway' }, 1);
    const { data } = await client('ghp_flaky').rest.repos.get({ owner: 'acme', repo: 'payments' });
    expect(data.full_name).toBe('acme/payments');
    github.failNext(/\/repos\/acme\/payments$/, { kind: 'status', status: 502, message: 'Bad gateway' }, 10);
    const error = await client('ghp_flaky')
      .rest.repos.get({ owner: 'acme', repo: 'payments' })
      .catch((caught: unknown) => caught);
    expect(error).toMatchObject({ status: 502 });
    github.state.faults.length = 0;
  });

  it('talks to a GitHub Enterprise Server under its /api/v3 REST root', async () => {
    github.addToken('ghp_ghes', 'ada');
    // A GHES host: everything under /api/v3, forwarded to the local GitHub; anything else is a 404.
    const ghes = createServer((request, response) => {
      const url = request.url ?? '/';
      if (!url.startsWith('/api/v3/')) {
        response.writeHead(404).end();
        return;
      }
      fetch(`${github.url}${url.slice('/api/v3'.length)}`, {
        headers: { authorization: request.headers.authorization ?? '' },
      })
        .then(async (answer) => {
          response.writeHead(answer.status, Object.fromEntries(answer.headers));
          response.end(Buffer.from(await answer.arrayBuffer()));
        })
        .catch(() => response.writeHead(502).end());
    });
    await new Promise<void>((resolve) => ghes.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = ghes.address() as AddressInfo;
      const octokit = client('ghp_ghes', { baseUrl: `http://127.0.0.1:${port}/api/v3/` });
      const { data } = await octokit.rest.repos.get({ owner: 'acme', repo: 'payments' });
      expect(data.default_branch).toBe('main');
      expect(github.calls().at(-1)).toMatchObject({ path: '/repos/acme/payments', token: 'ghp_ghes' });
    } finally {
      ghes.closeAllConnections();
      await new Promise((resolve) => ghes.close(resolve));
    }
  });
});
