import type { GithubClient } from './github-client';
import { skippedFileReason, type SkipReason } from './skip-files';

/** GitHub lists at most 3,000 files of a pull request; so do we. */
export const pullFilesMax = 3_000;
/** Patch lines read per pull request, all files together: a 10,000-line change fits five times over. */
export const pullPatchLinesMax = 50_000;
/** GitHub lists at most 250 commits of a pull request. */
export const pullCommitsMax = 250;
export const pullReviewsMax = 500;
/** Characters of a commit message kept, from its end, where the trailers are. */
export const commitMessageCharsMax = 16_384;
/** Repositories of an owner polled in one call, and merged pull requests returned by one poll. */
export const pollReposMax = 100;
export const pollPullsMax = 1_000;

export interface MergedPullFile {
  readonly path: string;
  /** GitHub's `patch`: the file's unified diff against the base (hunks only), cut to the line budget. */
  readonly patch: string;
}

export interface MergedPullCommit {
  readonly sha: string;
  readonly message: string;
  /** The GitHub login the commit's author email maps to; null when it maps to none. */
  readonly authorLogin: string | null;
}

/**
 * A pull request as matching needs it. Files, commits and reviews are loaded only when it merged
 * into the default branch. A push straight to the default branch is one too (`loadPushedCode`):
 * `number` 0, `push` set, no reviews.
 */
export interface MergedPull {
  /** `owner/name`. */
  readonly repo: string;
  /** The pull request's number; 0 for a push (pull request numbers start at 1). */
  readonly number: number;
  /** Set when the code landed by a push to the default branch rather than a pull request. */
  readonly push?: { readonly before: string; readonly after: string };
  readonly url: string;
  readonly merged: boolean;
  readonly mergedAt: string | null;
  readonly baseRef: string;
  readonly defaultBranch: string;
  readonly intoDefaultBranch: boolean;
  readonly authorLogin: string | null;
  readonly mergedByLogin: string | null;
  /** Someone other than the author approved it: their latest deciding review is APPROVED. */
  readonly approvedByOther: boolean;
  readonly commits: readonly MergedPullCommit[];
  readonly files: readonly MergedPullFile[];
  /** Files left out, by reason. */
  readonly skippedFiles: Readonly<Partial<Record<SkipReason, number>>>;
  /** A bound (files, lines, commits, reviews) cut the pull request short. */
  readonly truncated: boolean;
}

export interface PullRef {
  readonly owner: string;
  readonly repo: string;
  readonly pullNumber: number;
}

/**
 * Loads a pull request and, when it merged into its repository's default branch, its reviews,
 * commits and files. The files are diffed against the base by GitHub (`pulls/{n}/files`), so a
 * squash, rebase or merge commit all give the same lines. Lockfiles, vendored, generated,
 * minified and binary files are skipped.
 */
export async function loadMergedPull(client: GithubClient, ref: PullRef): Promise<MergedPull> {
  const { owner, repo, pullNumber } = ref;
  const { data: pull } = await client.rest.pulls.get({ owner, repo, pull_number: pullNumber });
  const defaultBranch = pull.base.repo.default_branch;
  const summary = {
    repo: pull.base.repo.full_name,
    number: pull.number,
    url: pull.html_url,
    merged: pull.merged,
    mergedAt: pull.merged_at,
    baseRef: pull.base.ref,
    defaultBranch,
    intoDefaultBranch: pull.base.ref === defaultBranch,
    authorLogin: pull.user.login,
    mergedByLogin: pull.merged_by?.login ?? null,
  };
  if (!summary.merged || !summary.intoDefaultBranch) {
    return { ...summary, approvedByOther: false, commits: [], files: [], skippedFiles: {}, truncated: false };
  }
  const params = { owner, repo, pull_number: pullNumber, per_page: 100 };
  const reviews = await collect(client.paginate.iterator(client.rest.pulls.listReviews, params), pullReviewsMax);
  const commits = await collect(client.paginate.iterator(client.rest.pulls.listCommits, params), pullCommitsMax);
  const files = await collect(client.paginate.iterator(client.rest.pulls.listFiles, params), pullFilesMax);
  const kept = keepFiles(files.items);
  return {
    ...summary,
    approvedByOther: approvedByOther(
      summary.authorLogin,
      reviews.items.map((review) => ({ login: review.user?.login ?? null, state: review.state })),
    ),
    commits: commits.items.map((entry) => ({
      sha: entry.sha,
      message: entry.commit.message.slice(-commitMessageCharsMax),
      authorLogin: entry.author?.login ?? null,
    })),
    files: kept.files,
    skippedFiles: kept.skipped,
    truncated: reviews.truncated || commits.truncated || files.truncated || kept.truncated,
  };
}

/** Reads pages until `itemsMax` items; `truncated` when more were there. */
async function collect<T>(pages: AsyncIterable<{ data: T[] }>, itemsMax: number) {
  const items: T[] = [];
  for await (const { data } of pages) {
    for (const item of data) {
      if (items.length === itemsMax) return { items, truncated: true };
      items.push(item);
    }
  }
  return { items, truncated: false };
}

/** The files matching reads, by GitHub's `patch`; skipped ones counted by reason, all cut to pullPatchLinesMax lines. */
export function keepFiles(entries: readonly { filename: string; patch?: string }[]) {
  const files: MergedPullFile[] = [];
  const skipped: Partial<Record<SkipReason, number>> = {};
  let linesLeft = pullPatchLinesMax;
  let truncated = false;
  for (const { filename, patch } of entries) {
    const reason = skippedFileReason(filename, patch);
    if (reason !== undefined) {
      skipped[reason] = (skipped[reason] ?? 0) + 1;
      continue;
    }
    if (linesLeft === 0) {
      truncated = true;
      break;
    }
    const lines = (patch as string).split('\n');
    if (lines.length > linesLeft) truncated = true;
    // A patch cut inside a hunk still yields the lines it has (extractAddedLines).
    files.push({ path: filename, patch: lines.slice(0, linesLeft).join('\n') });
    linesLeft -= Math.min(lines.length, linesLeft);
  }
  return { files, skipped, truncated };
}

/**
 * Whether a reviewer other than the author approved: each reviewer's latest APPROVED,
 * CHANGES_REQUESTED or DISMISSED review decides (a later comment does not withdraw an approval),
 * as GitHub's own review summary counts them. Reviews come oldest first.
 */
export function approvedByOther(
  authorLogin: string | null,
  reviews: readonly { login: string | null; state: string }[],
): boolean {
  const latest = new Map<string, string>();
  for (const { login, state } of reviews) {
    if (login === null || !['APPROVED', 'CHANGES_REQUESTED', 'DISMISSED'].includes(state)) continue;
    latest.set(login.toLowerCase(), state);
  }
  const author = authorLogin?.toLowerCase();
  return [...latest].some(([login, state]) => login !== author && state === 'APPROVED');
}

export interface MergedPullSummary {
  readonly repo: string;
  readonly owner: string;
  readonly name: string;
  readonly number: number;
  readonly url: string;
  readonly mergedAt: string;
  readonly authorLogin: string | null;
}

export interface PollQuery {
  readonly owner: string;
  /** One repository of `owner`; every repository of the owner (organisation or user) when left out. */
  readonly repo?: string;
  /** Pull requests merged at or after this instant. */
  readonly since: Date;
  /** Only pull requests opened by this login. */
  readonly author?: string;
}

/**
 * The polling path: pull requests merged into each repository's default branch since `since`,
 * newest update first. Pages stop at the first pull request last updated before `since` (a merge
 * updates it, so nothing older can have merged since); bounded by pollReposMax and pollPullsMax.
 */
export async function listMergedPullsSince(
  client: GithubClient,
  query: PollQuery,
): Promise<{ pulls: MergedPullSummary[]; truncated: boolean }> {
  const repos = await reposToPoll(client, query);
  const pulls: MergedPullSummary[] = [];
  const sinceMs = query.since.getTime();
  const author = query.author?.toLowerCase();
  for (const { name, defaultBranch } of repos.items) {
    const pages = client.paginate.iterator(client.rest.pulls.list, {
      owner: query.owner,
      repo: name,
      state: 'closed',
      base: defaultBranch,
      sort: 'updated',
      direction: 'desc',
      per_page: 100,
    });
    pages: for await (const { data } of pages) {
      for (const pull of data) {
        if (Date.parse(pull.updated_at) < sinceMs) break pages;
        if (pull.merged_at === null || Date.parse(pull.merged_at) < sinceMs) continue;
        if (author !== undefined && pull.user?.login.toLowerCase() !== author) continue;
        if (pulls.length === pollPullsMax) return { pulls, truncated: true };
        pulls.push({
          repo: `${query.owner}/${name}`,
          owner: query.owner,
          name,
          number: pull.number,
          url: pull.html_url,
          mergedAt: pull.merged_at,
          authorLogin: pull.user?.login ?? null,
        });
      }
    }
  }
  return { pulls, truncated: repos.truncated };
}

async function reposToPoll(client: GithubClient, query: PollQuery) {
  if (query.repo !== undefined) {
    const { data } = await client.rest.repos.get({ owner: query.owner, repo: query.repo });
    return { items: [{ name: data.name, defaultBranch: data.default_branch }], truncated: false };
  }
  const forOrg = client.paginate.iterator(client.rest.repos.listForOrg, { org: query.owner, per_page: 100 });
  const listed = await collect(forOrg, pollReposMax).catch(async (error: unknown) => {
    if ((error as { status?: number }).status !== 404) throw error;
    // Not an organisation: a user's repositories.
    const forUser = client.paginate.iterator(client.rest.repos.listForUser, { username: query.owner, per_page: 100 });
    return collect(forUser, pollReposMax);
  });
  const items = listed.items
    .filter((repo) => repo.archived !== true)
    .map((repo) => ({ name: repo.name, defaultBranch: repo.default_branch ?? 'main' }));
  return { items, truncated: listed.truncated };
}
