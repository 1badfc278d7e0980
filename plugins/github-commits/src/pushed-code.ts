import type { GithubClient } from './github-client';
import { commitMessageCharsMax, keepFiles, pullCommitsMax, type MergedPull } from './merged-pull';

/** The `before` of a push that created its branch: there is nothing to diff against. */
export const zeroSha = '0'.repeat(40);
/** Commits of one push read from GitHub's comparison, 100 a page; a longer push is cut (`truncated`). */
export const pushCommitsMax = pullCommitsMax;
const comparePageSize = 100;
/** GitHub's comparison lists at most 300 files; a push that changed more is cut there (`truncated`). */
export const compareFilesMax = 300;

export interface PushRef {
  readonly owner: string;
  readonly repo: string;
  /** The default branch the push landed on (the receiver checked `ref` against it). */
  readonly defaultBranch: string;
  readonly before: string;
  readonly after: string;
  /** When the push reached us: no commit timestamp may put its landing later than this. */
  readonly receivedAt: Date;
}

/**
 * Loads what a push to the default branch brought, as a MergedPull the pull request matcher reads:
 * GitHub's comparison `before...after` (its files diffed against `before`, so the added lines are
 * exactly the ones the push brought; skipped files as for a pull request), and its commits.
 *
 * Code pushed straight to the default branch had no pull request and so no review by anyone else:
 * it is a self-merge by its author (`mergedByLogin` = `authorLogin`, never `approvedByOther`), and
 * counts only at the team's `selfMergeWeight` (0 by default, so by default it credits nobody).
 *
 * The author is the login GitHub maps the commits' author to, never the pusher: whoever holds write
 * access may push anyone's commits. A push whose commits are not all one login's (or whose author
 * GitHub cannot map) names no author, so it credits nobody: the comparison is one diff, and which of
 * its lines were whose cannot be told apart from it. A comparison that is not a fast-forward
 * (`status` other than `ahead`) is no landing either.
 *
 * `mergedAt` is the latest commit's committer date, but never after `receivedAt`: a commit's dates
 * are what its author wrote, so a future date cannot stretch the window, and a date before the
 * request (code that existed before the completion) keeps it from matching.
 */
export async function loadPushedCode(client: GithubClient, ref: PushRef): Promise<MergedPull> {
  const { owner, repo, before, after } = ref;
  const commits: { sha: string; message: string; authorLogin: string | null; committedAt: string | null }[] = [];
  let files: readonly { filename: string; patch?: string }[] = [];
  let status = 'ahead';
  let htmlUrl = `https://github.com/${owner}/${repo}/compare/${before}...${after}`;
  let truncated = false;
  for (let page = 1; ; page += 1) {
    const { data } = await client.rest.repos.compareCommitsWithBasehead({
      owner,
      repo,
      basehead: `${before}...${after}`,
      per_page: comparePageSize,
      page,
    });
    if (page === 1) {
      // GitHub lists the files on the first page only.
      files = data.files ?? [];
      status = data.status;
      htmlUrl = data.html_url;
    }
    for (const entry of data.commits) {
      if (commits.length === pushCommitsMax) break;
      commits.push({
        sha: entry.sha,
        message: entry.commit.message.slice(-commitMessageCharsMax),
        authorLogin: entry.author?.login ?? null,
        committedAt: entry.commit.committer?.date ?? entry.commit.author?.date ?? null,
      });
    }
    if (commits.length >= pushCommitsMax) {
      truncated = data.total_commits > pushCommitsMax;
      break;
    }
    if (data.commits.length < comparePageSize || commits.length >= data.total_commits) break;
  }
  const kept = keepFiles(files);
  const authorLogin = soleAuthor(commits);
  const fastForward = status === 'ahead' && commits.length > 0;
  return {
    repo: `${owner}/${repo}`,
    number: 0,
    push: { before, after },
    url: htmlUrl,
    merged: fastForward,
    mergedAt: fastForward ? landedAt(commits, ref.receivedAt) : null,
    baseRef: ref.defaultBranch,
    defaultBranch: ref.defaultBranch,
    intoDefaultBranch: true,
    authorLogin,
    // Nobody else merged it: the push is its author's own merge, unreviewed.
    mergedByLogin: authorLogin,
    approvedByOther: false,
    commits: commits.map(({ sha, message, authorLogin: login }) => ({ sha, message, authorLogin: login })),
    files: kept.files,
    skippedFiles: kept.skipped,
    truncated: truncated || kept.truncated || files.length >= compareFilesMax,
  };
}

/** The one login every commit's author maps to, or null when they are several or one is unknown. */
export function soleAuthor(commits: readonly { authorLogin: string | null }[]): string | null {
  const logins = new Set(commits.map((entry) => entry.authorLogin?.toLowerCase() ?? null));
  if (logins.size !== 1 || logins.has(null)) return null;
  return commits[0]!.authorLogin;
}

/** The latest commit date, capped at `receivedAt`; `receivedAt` when no commit has a readable date. */
function landedAt(commits: readonly { committedAt: string | null }[], receivedAt: Date): string {
  const datesMs = commits.map((entry) => Date.parse(entry.committedAt ?? '')).filter((ms) => Number.isFinite(ms));
  const latestMs = datesMs.length === 0 ? receivedAt.getTime() : Math.max(...datesMs);
  return new Date(Math.min(latestMs, receivedAt.getTime())).toISOString();
}
