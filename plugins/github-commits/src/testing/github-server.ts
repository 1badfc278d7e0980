import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { decideDeviceCode, handleDeviceFlow } from './github-device-flow';
import {
  commit,
  commitComparison,
  commitWithFiles,
  compareCommitsUnpagedMax,
  diffEntry,
  pullRequest,
  pullRequestSummary,
  repository,
  review,
  simpleUser,
} from './github-shapes';
import {
  createGithubState,
  etagOf,
  fakeSha,
  type GithubCall,
  type GithubFault,
  type GithubCommit,
  type GithubPull,
  type GithubPush,
  type GithubRepo,
} from './github-state';

const docs = 'https://docs.github.com/rest';
const perPageDefault = 30;
const perPageMax = 100;
const rateLimitDefault = 5_000;

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

interface Route {
  method: string;
  pattern: RegExp;
  handle(match: RegExpExecArray, query: URLSearchParams, base: string): unknown[] | unknown;
  /** Lists are paginated with `per_page`, `page` and a `Link` header, as on GitHub. */
  list?: boolean;
  /** The route pages itself (an object holding a list, such as a comparison's commits): `handle` returns `{ body, link }`. */
  paged?: boolean;
}

/** One page of a list, and the `Link` header that points to the others. */
function paginate(items: unknown[], query: URLSearchParams, url: URL): { page: unknown[]; link: string | undefined } {
  const perPage = Math.min(Math.max(Number(query.get('per_page') ?? perPageDefault) || perPageDefault, 1), perPageMax);
  const pageNumber = Math.max(Number(query.get('page') ?? 1) || 1, 1);
  const last = Math.max(Math.ceil(items.length / perPage), 1);
  const at = (page: number) => {
    const target = new URL(url);
    target.searchParams.set('per_page', String(perPage));
    target.searchParams.set('page', String(page));
    return target.toString();
  };
  const links: string[] = [];
  if (pageNumber < last) links.push(`<${at(pageNumber + 1)}>; rel="next"`, `<${at(last)}>; rel="last"`);
  if (pageNumber > 1) links.push(`<${at(1)}>; rel="first"`, `<${at(pageNumber - 1)}>; rel="prev"`);
  return {
    page: items.slice((pageNumber - 1) * perPage, pageNumber * perPage),
    link: links.length === 0 ? undefined : links.join(', '),
  };
}

/**
 * A local GitHub REST API for tests, driven by the real `@octokit/rest`: repositories, pull
 * requests with their files (unified `patch`), reviews and commits, pushes compared
 * `before...after` (commits paged, files with `patch` on the first page), single commits with their
 * own files (`GET /repos/{o}/{r}/commits/{sha}`), `GET /user`; `Link`
 * pagination; `x-ratelimit-*` headers with a primary limit per token (403 when spent, free 304s);
 * secondary limits (403 or 429 with `retry-after`) on demand; weak ETags and 304 for a matching
 * `If-None-Match`; and the OAuth device flow (`/login/device/code`, `/login/oauth/access_token`, and
 * the page `/login/device` where the user enters the code).
 */
export async function startLocalGithub() {
  const state = createGithubState();
  const repoOf = (owner: string, name: string): GithubRepo => {
    const repo = state.repos.get(`${owner}/${name}`.toLowerCase());
    if (repo === undefined) throw new HttpError(404, 'Not Found');
    return repo;
  };
  const pullOf = (owner: string, name: string, number: string): [GithubRepo, GithubPull] => {
    const repo = repoOf(owner, name);
    const pull = repo.pulls.get(Number(number));
    if (pull === undefined) throw new HttpError(404, 'Not Found');
    return [repo, pull];
  };
  const seg = '([A-Za-z0-9_.-]+)';
  const routes: Route[] = [
    {
      method: 'GET',
      pattern: /^\/user$/,
      handle: () => undefined, // answered with the token's user below
    },
    {
      method: 'GET',
      pattern: new RegExp(`^/repos/${seg}/${seg}$`),
      handle: ([, owner, name], _query, base) => repository(state, repoOf(owner as string, name as string), base),
    },
    {
      method: 'GET',
      pattern: new RegExp(`^/(?:orgs|users)/${seg}/repos$`),
      list: true,
      handle: ([, owner], _query, base) =>
        [...state.repos.values()]
          .filter((repo) => repo.owner.toLowerCase() === (owner as string).toLowerCase())
          .map((repo) => repository(state, repo, base)),
    },
    {
      method: 'GET',
      pattern: new RegExp(`^/repos/${seg}/${seg}/pulls$`),
      list: true,
      handle: ([, owner, name], query, base) => {
        const repo = repoOf(owner as string, name as string);
        const wanted = query.get('state') ?? 'open';
        const baseRef = query.get('base');
        const sort = query.get('sort') ?? 'created';
        const direction = query.get('direction') ?? (sort === 'created' ? 'desc' : 'desc');
        const key = (pull: GithubPull) => (sort === 'updated' ? pull.updatedAt : pull.createdAt);
        return [...repo.pulls.values()]
          .filter((pull) => wanted === 'all' || pull.state === wanted)
          .filter((pull) => baseRef === null || pull.baseRef === baseRef)
          .sort((a, b) => (direction === 'asc' ? key(a).localeCompare(key(b)) : key(b).localeCompare(key(a))))
          .map((pull) => pullRequestSummary(state, repo, pull, base));
      },
    },
    {
      method: 'GET',
      pattern: new RegExp(`^/repos/${seg}/${seg}/pulls/(\\d+)$`),
      handle: ([, owner, name, number], _query, base) => {
        const [repo, pull] = pullOf(owner as string, name as string, number as string);
        return pullRequest(state, repo, pull, base);
      },
    },
    {
      method: 'GET',
      pattern: new RegExp(`^/repos/${seg}/${seg}/pulls/(\\d+)/files$`),
      list: true,
      handle: ([, owner, name, number], _query, base) => {
        const [repo, pull] = pullOf(owner as string, name as string, number as string);
        return pull.files.map((file) => diffEntry(repo, pull, file, base));
      },
    },
    {
      method: 'GET',
      pattern: new RegExp(`^/repos/${seg}/${seg}/pulls/(\\d+)/reviews$`),
      list: true,
      handle: ([, owner, name, number], _query, base) => {
        const [repo, pull] = pullOf(owner as string, name as string, number as string);
        return pull.reviews.map((entry) => review(state, repo, pull, entry, base));
      },
    },
    {
      method: 'GET',
      pattern: new RegExp(`^/repos/${seg}/${seg}/pulls/(\\d+)/commits$`),
      list: true,
      handle: ([, owner, name, number], _query, base) => {
        const [repo, pull] = pullOf(owner as string, name as string, number as string);
        return pull.commits.map((entry) => commit(state, repo, entry, base));
      },
    },
    {
      method: 'GET',
      pattern: new RegExp(`^/repos/${seg}/${seg}/commits/([0-9a-f]{7,64})$`),
      handle: ([, owner, name, sha], _query, base) => {
        const repo = repoOf(owner as string, name as string);
        const commits = [...repo.pushes.values(), ...repo.pulls.values()].flatMap((entry) => entry.commits);
        const found = commits.find((entry) => entry.sha.startsWith(sha as string));
        // GitHub answers an unknown sha with 422.
        if (found === undefined) throw new HttpError(422, `No commit found for SHA: ${sha}`);
        return commitWithFiles(state, repo, found, base);
      },
    },
    {
      method: 'GET',
      pattern: new RegExp(`^/repos/${seg}/${seg}/compare/([0-9a-f]{7,64})\\.\\.\\.([0-9a-f]{7,64})$`),
      paged: true,
      handle: ([, owner, name, before, after], query, base) => {
        const repo = repoOf(owner as string, name as string);
        const push = repo.pushes.get(`${before}...${after}`);
        if (push === undefined) throw new HttpError(404, 'Not Found');
        return comparePage(repo, push, query, base);
      },
    },
  ];

  /**
   * One page of a comparison, as GitHub pages it: without `page` or `per_page` the first 250
   * commits; with them, that page of commits (the `Link` header points to the others) and the
   * files on the first page only.
   */
  function comparePage(repo: GithubRepo, push: GithubPush, query: URLSearchParams, base: string) {
    const requestUrl = new URL(`${base}/repos/${repo.owner}/${repo.name}/compare/${push.before}...${push.after}`);
    if (!query.has('page') && !query.has('per_page')) {
      const commits = push.commits.slice(0, compareCommitsUnpagedMax);
      return { body: commitComparison(state, repo, push, { commits, first: true }, base), link: undefined };
    }
    const { page, link } = paginate(push.commits, query, requestUrl);
    const first = Math.max(Number(query.get('page') ?? 1) || 1, 1) === 1;
    return {
      body: commitComparison(state, repo, push, { commits: page as GithubCommit[], first }, base),
      link,
    };
  }

  function rateHeaders(token: string | null): Record<string, string> {
    const entry = token === null ? undefined : state.tokens.get(token);
    const limit = entry?.limit ?? 60;
    const remaining = entry?.remaining ?? 60;
    const reset = entry?.resetAtSeconds ?? Math.floor(Date.now() / 1000) + 3600;
    return {
      'x-ratelimit-limit': String(limit),
      'x-ratelimit-remaining': String(remaining),
      'x-ratelimit-reset': String(reset),
      'x-ratelimit-used': String(limit - remaining),
      'x-ratelimit-resource': 'core',
    };
  }

  function send(response: ServerResponse, status: number, body: unknown, headers: Record<string, string>): void {
    const text = body === undefined ? '' : JSON.stringify(body);
    response.writeHead(status, {
      'content-type': 'application/json; charset=utf-8',
      'x-github-api-version-selected': '2022-11-28',
      'x-github-media-type': 'github.v3; format=json',
      ...headers,
    });
    response.end(text);
  }

  function takeFault(path: string): GithubFault | undefined {
    const entry = state.faults.find((candidate) => candidate.remaining > 0 && candidate.pathPattern.test(path));
    if (entry === undefined) return undefined;
    entry.remaining -= 1;
    return entry.fault;
  }

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', `http://${request.headers.host ?? 'localhost'}`);
    const base = `http://${request.headers.host ?? 'localhost'}`;
    const method = request.method ?? 'GET';
    const authorization = request.headers.authorization ?? '';
    const token = /^(?:token|bearer)\s+(\S+)$/i.exec(authorization)?.[1] ?? null;
    const ifNoneMatch = (request.headers['if-none-match'] as string | undefined) ?? null;
    const call: GithubCall = {
      method,
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      token,
      ifNoneMatch,
      status: 0,
      atMs: Date.now(),
    };
    state.calls.push(call);
    const reply = (status: number, body: unknown, headers: Record<string, string> = {}) => {
      call.status = status;
      send(response, status, body, headers);
    };
    try {
      if (url.pathname.startsWith('/login/')) {
        const chunks: Buffer[] = [];
        for await (const chunk of request) chunks.push(chunk as Buffer);
        const answer = handleDeviceFlow(state, {
          method,
          path: url.pathname,
          raw: Buffer.concat(chunks).toString('utf8'),
          headers: request.headers,
        });
        call.status = answer.status;
        response.writeHead(answer.status, { 'content-type': answer.contentType });
        response.end(answer.body);
        return;
      }
      const route = routes.find((candidate) => candidate.method === method && candidate.pattern.test(url.pathname));
      if (route === undefined) throw new HttpError(404, 'Not Found');
      if (token !== null && !state.tokens.has(token)) throw new HttpError(401, 'Bad credentials');
      const entry = token === null ? undefined : state.tokens.get(token);
      if (entry !== undefined && entry.resetAtSeconds * 1000 <= Date.now()) {
        entry.remaining = entry.limit;
        entry.resetAtSeconds = Math.floor(Date.now() / 1000) + 3600;
      }
      const fault = takeFault(url.pathname);
      if (fault?.kind === 'secondary')
        throw new HttpError(
          fault.status,
          'You have exceeded a secondary rate limit. Please wait a few minutes before you try again.',
          { 'retry-after': String(fault.retryAfterSeconds) },
        );
      if (fault?.kind === 'status') throw new HttpError(fault.status, fault.message);
      if (entry !== undefined && entry.remaining <= 0)
        throw new HttpError(403, `API rate limit exceeded for user ID ${state.users.get(entry.login)?.id ?? 0}.`);
      const match = route.pattern.exec(url.pathname) as RegExpExecArray;
      let body: unknown;
      const headers: Record<string, string> = {};
      if (url.pathname === '/user') {
        if (entry === undefined) throw new HttpError(401, 'Requires authentication');
        body = { ...simpleUser(state, entry.login, base), name: entry.login };
      } else if (route.list === true) {
        const { page, link } = paginate(
          route.handle(match, url.searchParams, base) as unknown[],
          url.searchParams,
          url,
        );
        body = page;
        if (link !== undefined) headers.link = link;
      } else if (route.paged === true) {
        const paged = route.handle(match, url.searchParams, base) as { body: unknown; link: string | undefined };
        body = paged.body;
        if (paged.link !== undefined) headers.link = paged.link;
      } else {
        body = route.handle(match, url.searchParams, base);
      }
      const etag = etagOf(JSON.stringify(body));
      // A 304 does not count against the primary rate limit, as on GitHub.
      if (ifNoneMatch !== null && ifNoneMatch === etag) {
        call.status = 304;
        response.writeHead(304, { etag, ...rateHeaders(token) });
        response.end();
        return;
      }
      if (entry !== undefined) entry.remaining -= 1;
      reply(200, body, { etag, ...headers, ...rateHeaders(token) });
    } catch (error) {
      if (!(error instanceof HttpError)) {
        reply(500, { message: (error as Error).message });
        return;
      }
      reply(
        error.status,
        { message: error.message, documentation_url: docs, status: String(error.status) },
        { ...rateHeaders(token), ...error.headers },
      );
    }
  }

  const server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      response.writeHead(500).end(String(error));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;

  return {
    /** The REST base: Octokit's `baseUrl` (as for GitHub Enterprise Server). */
    url,
    state,
    addUser(login: string): void {
      if (!state.users.has(login)) state.users.set(login, { login, id: state.nextId++ });
    },
    /** A token for `login`, with its own primary rate limit (5,000 an hour by default). */
    addToken(token: string, login: string, limit = rateLimitDefault): void {
      this.addUser(login);
      state.tokens.set(token, { login, limit, remaining: limit, resetAtSeconds: Math.floor(Date.now() / 1000) + 3600 });
    },
    /** Spends a token's primary limit, resetting `resetInSeconds` from now. */
    exhaust(token: string, resetInSeconds: number): void {
      const entry = state.tokens.get(token);
      if (entry === undefined) throw new Error(`no token ${token}`);
      entry.remaining = 0;
      entry.resetAtSeconds = Math.floor(Date.now() / 1000) + resetInSeconds;
    },
    addRepo(owner: string, name: string, options: { defaultBranch?: string; private?: boolean } = {}): GithubRepo {
      this.addUser(owner);
      const repo: GithubRepo = {
        id: state.nextId++,
        owner,
        name,
        defaultBranch: options.defaultBranch ?? 'main',
        private: options.private ?? true,
        pulls: new Map(),
        pushes: new Map(),
      };
      state.repos.set(`${owner}/${name}`.toLowerCase(), repo);
      return repo;
    },
    /** Adds a pull request; merged when `mergedAt` is given (closed at the same instant). */
    addPull(repo: GithubRepo, pull: Partial<GithubPull> & Pick<GithubPull, 'user' | 'files'>): GithubPull {
      const number = pull.number ?? repo.pulls.size + 1;
      const createdAt = pull.createdAt ?? new Date(Date.now() - 3_600_000).toISOString();
      const mergedAt = pull.mergedAt ?? null;
      this.addUser(pull.user);
      for (const entry of pull.reviews ?? []) this.addUser(entry.user);
      if (pull.mergedBy) this.addUser(pull.mergedBy);
      const full: GithubPull = {
        number,
        title: `Pull request ${number}`,
        body: null,
        state: mergedAt === null ? 'open' : 'closed',
        createdAt,
        updatedAt: mergedAt ?? createdAt,
        closedAt: mergedAt,
        mergedAt,
        mergedBy: mergedAt === null ? null : pull.user,
        mergeCommitSha: mergedAt === null ? null : fakeSha(`${repo.name}#${number}:merge`),
        baseRef: repo.defaultBranch,
        baseSha: fakeSha(`${repo.name}#${number}:base`),
        headRef: `feature-${number}`,
        headSha: fakeSha(`${repo.name}#${number}:head`),
        reviews: [],
        commits: [],
        ...pull,
      };
      repo.pulls.set(number, full);
      return full;
    },
    /**
     * Commits pushed onto `repo`'s default branch, answered by the compare endpoint for
     * `before...after`. `after` defaults to the last commit's sha, `before` to a fixed parent.
     */
    addPush(repo: GithubRepo, push: Partial<GithubPush> & Pick<GithubPush, 'commits' | 'files'>): GithubPush {
      for (const entry of push.commits) if (entry.author !== null) this.addUser(entry.author);
      const full: GithubPush = {
        before: fakeSha(`${repo.name}:before:${repo.pushes.size}`),
        after: push.commits.at(-1)?.sha ?? fakeSha(`${repo.name}:after:${repo.pushes.size}`),
        status: 'ahead',
        ...push,
      };
      repo.pushes.set(`${full.before}...${full.after}`, full);
      return full;
    },
    /** The next `times` requests whose path matches answer with `fault` instead. */
    failNext(pathPattern: RegExp, fault: GithubFault, times = 1): void {
      state.faults.push({ pathPattern, fault, remaining: times });
    },
    /** An OAuth app that may run the device flow. */
    addOAuthClient(clientId: string): void {
      state.oauthClients.add(clientId);
    },
    /** The user enters `userCode` at the verification page and approves as `login`; false for an unknown code. */
    approveDevice: (userCode: string, login: string): boolean => decideDeviceCode(state, userCode, login),
    denyDevice: (userCode: string): boolean => decideDeviceCode(state, userCode, null),
    /** The device code behind `userCode` runs out now, as if its 15 minutes had passed; false for an unknown code. */
    expireDevice(userCode: string): boolean {
      const entry = [...state.deviceCodes.values()].find((candidate) => candidate.userCode === userCode);
      if (entry === undefined) return false;
      entry.expiresAtMs = Date.now() - 1;
      return true;
    },
    calls: (): readonly GithubCall[] => state.calls,
    async close(): Promise<void> {
      server.closeAllConnections();
      await new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
    },
  };
}

export type LocalGithub = Awaited<ReturnType<typeof startLocalGithub>>;
