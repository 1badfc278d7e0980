import { createHash } from 'node:crypto';

/** A GitHub account the local server knows. */
export interface GithubUser {
  login: string;
  id: number;
}

/** One file of a pull request, as `GET /repos/{o}/{r}/pulls/{n}/files` lists it. */
export interface GithubPullFile {
  filename: string;
  status: 'added' | 'removed' | 'modified' | 'renamed' | 'copied' | 'changed' | 'unchanged';
  /** The unified diff of the file against the pull request's base; absent for binary or huge files, as on GitHub. */
  patch?: string;
  previousFilename?: string;
}

export interface GithubReview {
  id: number;
  user: string;
  state: 'APPROVED' | 'CHANGES_REQUESTED' | 'COMMENTED' | 'DISMISSED' | 'PENDING';
  submittedAt: string;
}

export interface GithubCommit {
  sha: string;
  message: string;
  /** The GitHub login of the author, when the commit's email maps to one. */
  author: string | null;
  authoredAt: string;
  /** The commit's own diff against its parent, as `GET /repos/{o}/{r}/commits/{sha}` lists it. */
  files?: GithubPullFile[];
}

export interface GithubPull {
  number: number;
  title: string;
  body: string | null;
  user: string;
  state: 'open' | 'closed';
  createdAt: string;
  updatedAt: string;
  closedAt: string | null;
  mergedAt: string | null;
  mergedBy: string | null;
  mergeCommitSha: string | null;
  baseRef: string;
  baseSha: string;
  headRef: string;
  headSha: string;
  files: GithubPullFile[];
  reviews: GithubReview[];
  commits: GithubCommit[];
}

/** Commits pushed onto a branch: what `GET /repos/{o}/{r}/compare/{before}...{after}` answers. */
export interface GithubPush {
  before: string;
  after: string;
  /** Oldest first, as compare lists them; the last one's sha is `after`. */
  commits: GithubCommit[];
  /** The files changed between `before` and `after`, each diffed against `before`. */
  files: GithubPullFile[];
  /** `ahead` for a fast-forward; `diverged` when the push rewrote history. */
  status: 'ahead' | 'diverged';
}

export interface GithubRepo {
  id: number;
  owner: string;
  name: string;
  defaultBranch: string;
  private: boolean;
  pulls: Map<number, GithubPull>;
  /** By `before...after`. */
  pushes: Map<string, GithubPush>;
}

/** A token the server accepts: whose it is, and its own primary rate limit window. */
export interface GithubToken {
  login: string;
  limit: number;
  remaining: number;
  resetAtSeconds: number;
}

/** What a request is answered with instead of its work. */
export type GithubFault =
  | { kind: 'secondary'; retryAfterSeconds: number; status: 403 | 429 }
  | { kind: 'status'; status: number; message: string };

export interface GithubCall {
  method: string;
  path: string;
  query: Record<string, string>;
  token: string | null;
  ifNoneMatch: string | null;
  status: number;
  atMs: number;
}

export interface DeviceCode {
  deviceCode: string;
  userCode: string;
  clientId: string;
  expiresAtMs: number;
  intervalSeconds: number;
  /** Set when the user approved in the browser: the login the token will belong to. */
  approvedBy: string | null;
  denied: boolean;
  lastPollMs: number;
  tokenIssued: string | null;
}

export interface GithubState {
  users: Map<string, GithubUser>;
  repos: Map<string, GithubRepo>;
  tokens: Map<string, GithubToken>;
  faults: { pathPattern: RegExp; fault: GithubFault; remaining: number }[];
  calls: GithubCall[];
  deviceCodes: Map<string, DeviceCode>;
  /** OAuth apps that may use the device flow, by client id. */
  oauthClients: Set<string>;
  nextId: number;
}

export function createGithubState(): GithubState {
  return {
    users: new Map(),
    repos: new Map(),
    tokens: new Map(),
    faults: [],
    calls: [],
    deviceCodes: new Map(),
    oauthClients: new Set(),
    nextId: 1_000,
  };
}

/** A deterministic 40-hex sha for fixtures. */
export function fakeSha(seed: string): string {
  return createHash('sha1').update(seed).digest('hex');
}

/** The weak ETag GitHub sends for a JSON body. */
export function etagOf(body: string): string {
  return `W/"${createHash('sha256').update(body).digest('hex').slice(0, 40)}"`;
}
