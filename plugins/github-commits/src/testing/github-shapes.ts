import type { components } from '@octokit/openapi-types';
import {
  fakeSha,
  type GithubCommit,
  type GithubPull,
  type GithubPullFile,
  type GithubPush,
  type GithubRepo,
  type GithubReview,
  type GithubState,
} from './github-state';

/**
 * GitHub's REST objects as the local server sends them: the fields of GitHub's OpenAPI schemas
 * (`@octokit/openapi-types`, checked by the compiler through `satisfies`) that identify an object
 * or that commit linkage reads, with their real names, types and nesting. Fields nobody reads
 * (the dozens of `*_url` templates of a repository) are left out.
 */
type Schemas = components['schemas'];
type DeepPartial<T> = T extends (infer U)[]
  ? DeepPartial<U>[]
  : T extends object
    ? { [K in keyof T]?: DeepPartial<T[K]> }
    : T;

export function simpleUser(state: GithubState, login: string, base: string) {
  const user = state.users.get(login);
  const id = user?.id ?? 0;
  return {
    login,
    id,
    node_id: Buffer.from(`04:User${id}`).toString('base64'),
    avatar_url: `https://avatars.githubusercontent.com/u/${id}?v=4`,
    gravatar_id: '',
    url: `${base}/users/${login}`,
    html_url: `https://github.com/${login}`,
    type: login.endsWith('[bot]') ? 'Bot' : 'User',
    site_admin: false,
  } satisfies DeepPartial<Schemas['simple-user']>;
}

export function repository(state: GithubState, repo: GithubRepo, base: string) {
  const fullName = `${repo.owner}/${repo.name}`;
  return {
    id: repo.id,
    node_id: Buffer.from(`010:Repository${repo.id}`).toString('base64'),
    name: repo.name,
    full_name: fullName,
    private: repo.private,
    owner: simpleUser(state, repo.owner, base),
    html_url: `https://github.com/${fullName}`,
    url: `${base}/repos/${fullName}`,
    fork: false,
    default_branch: repo.defaultBranch,
    visibility: repo.private ? 'private' : 'public',
    archived: false,
    disabled: false,
  } satisfies DeepPartial<Schemas['repository']>;
}

function branchRef(state: GithubState, repo: GithubRepo, ref: string, sha: string, base: string) {
  return {
    label: `${repo.owner}:${ref}`,
    ref,
    sha,
    user: simpleUser(state, repo.owner, base),
    repo: repository(state, repo, base),
  };
}

/** A pull request as the list endpoint gives it (`merged` and `merged_by` only on the single GET, as on GitHub). */
export function pullRequestSummary(state: GithubState, repo: GithubRepo, pull: GithubPull, base: string) {
  const fullName = `${repo.owner}/${repo.name}`;
  return {
    url: `${base}/repos/${fullName}/pulls/${pull.number}`,
    id: repo.id * 100_000 + pull.number,
    node_id: Buffer.from(`011:PullRequest${pull.number}`).toString('base64'),
    html_url: `https://github.com/${fullName}/pull/${pull.number}`,
    number: pull.number,
    state: pull.state,
    locked: false,
    title: pull.title,
    user: simpleUser(state, pull.user, base),
    body: pull.body,
    created_at: pull.createdAt,
    updated_at: pull.updatedAt,
    closed_at: pull.closedAt,
    merged_at: pull.mergedAt,
    merge_commit_sha: pull.mergeCommitSha,
    draft: false,
    head: branchRef(state, repo, pull.headRef, pull.headSha, base),
    base: branchRef(state, repo, pull.baseRef, pull.baseSha, base),
    author_association: 'MEMBER',
  } satisfies DeepPartial<Schemas['pull-request-simple']>;
}

export function pullRequest(state: GithubState, repo: GithubRepo, pull: GithubPull, base: string) {
  const additions = pull.files.reduce((sum, file) => sum + countLines(file.patch, '+'), 0);
  const deletions = pull.files.reduce((sum, file) => sum + countLines(file.patch, '-'), 0);
  return {
    ...pullRequestSummary(state, repo, pull, base),
    merged: pull.mergedAt !== null,
    mergeable: null,
    merged_by: pull.mergedBy === null ? null : simpleUser(state, pull.mergedBy, base),
    comments: 0,
    review_comments: 0,
    commits: pull.commits.length,
    additions,
    deletions,
    changed_files: pull.files.length,
  } satisfies DeepPartial<Schemas['pull-request']>;
}

function countLines(patch: string | undefined, sign: '+' | '-'): number {
  if (patch === undefined) return 0;
  return patch.split('\n').filter((line) => line.startsWith(sign) && !line.startsWith(`${sign.repeat(3)} `)).length;
}

export function diffEntry(
  repo: GithubRepo,
  /** A pull request, or a push as `{ number: 0, headSha: after }`. */
  pull: Pick<GithubPull, 'number' | 'headSha'>,
  file: GithubPullFile,
  base: string,
) {
  const fullName = `${repo.owner}/${repo.name}`;
  const additions = countLines(file.patch, '+');
  const deletions = countLines(file.patch, '-');
  return {
    sha: fakeSha(`${fullName}#${pull.number === 0 ? pull.headSha : pull.number}:${file.filename}`),
    filename: file.filename,
    status: file.status,
    additions,
    deletions,
    changes: additions + deletions,
    blob_url: `https://github.com/${fullName}/blob/${pull.headSha}/${file.filename}`,
    raw_url: `https://github.com/${fullName}/raw/${pull.headSha}/${file.filename}`,
    contents_url: `${base}/repos/${fullName}/contents/${file.filename}?ref=${pull.headSha}`,
    ...(file.patch === undefined ? {} : { patch: file.patch }),
    ...(file.previousFilename === undefined ? {} : { previous_filename: file.previousFilename }),
  } satisfies Schemas['diff-entry'];
}

export function review(state: GithubState, repo: GithubRepo, pull: GithubPull, entry: GithubReview, base: string) {
  const fullName = `${repo.owner}/${repo.name}`;
  return {
    id: entry.id,
    node_id: Buffer.from(`017:PullRequestReview${entry.id}`).toString('base64'),
    user: simpleUser(state, entry.user, base),
    body: '',
    state: entry.state,
    html_url: `https://github.com/${fullName}/pull/${pull.number}#pullrequestreview-${entry.id}`,
    pull_request_url: `${base}/repos/${fullName}/pulls/${pull.number}`,
    submitted_at: entry.submittedAt,
    commit_id: pull.headSha,
    author_association: 'MEMBER',
  } satisfies DeepPartial<Schemas['pull-request-review']>;
}

export function commit(state: GithubState, repo: GithubRepo, entry: GithubCommit, base: string) {
  const fullName = `${repo.owner}/${repo.name}`;
  const person = {
    name: entry.author ?? 'Someone',
    email: `${entry.author ?? 'someone'}@users.noreply.github.com`,
    date: entry.authoredAt,
  };
  return {
    url: `${base}/repos/${fullName}/commits/${entry.sha}`,
    sha: entry.sha,
    node_id: Buffer.from(`06:Commit${entry.sha}`).toString('base64'),
    html_url: `https://github.com/${fullName}/commit/${entry.sha}`,
    commit: {
      url: `${base}/repos/${fullName}/git/commits/${entry.sha}`,
      author: person,
      committer: person,
      message: entry.message,
      comment_count: 0,
      tree: {
        sha: fakeSha(`tree:${entry.sha}`),
        url: `${base}/repos/${fullName}/git/trees/${fakeSha(`tree:${entry.sha}`)}`,
      },
    },
    author: entry.author === null ? null : simpleUser(state, entry.author, base),
    committer: entry.author === null ? null : simpleUser(state, entry.author, base),
    parents: [],
  } satisfies DeepPartial<Schemas['commit']>;
}

/** A commit's own files, at most this many on a page, as GitHub lists them. */
export const commitFilesMax = 300;

/**
 * `GET /repos/{o}/{r}/commits/{ref}`: the commit, its stats, and its files diffed against its
 * parent (the first page of them).
 */
export function commitWithFiles(state: GithubState, repo: GithubRepo, entry: GithubCommit, base: string) {
  const files = (entry.files ?? [])
    .slice(0, commitFilesMax)
    .map((file) => diffEntry(repo, { number: 0, headSha: entry.sha }, file, base));
  const additions = files.reduce((sum, file) => sum + file.additions, 0);
  const deletions = files.reduce((sum, file) => sum + file.deletions, 0);
  return {
    ...commit(state, repo, entry, base),
    stats: { additions, deletions, total: additions + deletions },
    files,
  } satisfies DeepPartial<Schemas['commit']>;
}

/** Compare commits answers at most this many commits when not paginated, as GitHub does. */
export const compareCommitsUnpagedMax = 250;
/** and at most this many files, on the first page only. */
export const compareFilesMax = 300;

/**
 * `GET /repos/{o}/{r}/compare/{before}...{after}` for a push: the commits between (one page of
 * them, `commits` being that page) and, on the first page, the files diffed against `before`.
 */
export function commitComparison(
  state: GithubState,
  repo: GithubRepo,
  push: GithubPush,
  page: { commits: GithubCommit[]; first: boolean },
  base: string,
) {
  const fullName = `${repo.owner}/${repo.name}`;
  const basehead = `${push.before}...${push.after}`;
  const baseCommit = commit(
    state,
    repo,
    { sha: push.before, message: 'Earlier work', author: repo.owner, authoredAt: '2026-01-01T00:00:00Z' },
    base,
  );
  const files = page.first
    ? push.files
        .slice(0, compareFilesMax)
        .map((file) => diffEntry(repo, { number: 0, headSha: push.after }, file, base))
    : [];
  return {
    url: `${base}/repos/${fullName}/compare/${basehead}`,
    html_url: `https://github.com/${fullName}/compare/${basehead}`,
    permalink_url: `https://github.com/${fullName}/compare/${repo.owner}:${push.before}...${repo.owner}:${push.after}`,
    diff_url: `https://github.com/${fullName}/compare/${basehead}.diff`,
    patch_url: `https://github.com/${fullName}/compare/${basehead}.patch`,
    base_commit: baseCommit,
    merge_base_commit: baseCommit,
    status: push.status,
    ahead_by: push.commits.length,
    behind_by: push.status === 'diverged' ? 1 : 0,
    total_commits: push.commits.length,
    commits: page.commits.map((entry) => commit(state, repo, entry, base)),
    files,
  } satisfies DeepPartial<Schemas['commit-comparison']>;
}
