import type { GithubClient } from './github-client';
import { extractAddedLines } from '@tokenwise/core';
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
 * GitHub cannot map) names no author here; `loadPushedCodeByAuthor` tells its authors' lines apart.
 * A comparison that is not a fast-forward (`status` other than `ahead`) is no landing either.
 *
 * `mergedAt` is the latest commit's committer date, but never after `receivedAt`: a commit's dates
 * are what its author wrote, so a future date cannot stretch the window, and a date before the
 * request (code that existed before the completion) keeps it from matching.
 */
export async function loadPushedCode(client: GithubClient, ref: PushRef): Promise<MergedPull> {
  return (await readPush(client, ref)).pull;
}

/**
 * What a push brought, per author: one MergedPull for a push of one login's commits (or for no
 * landing), and for a push of several logins' commits one per login, holding the landed lines
 * that login's own commits added. Each commit's own diff (`GET /repos/{o}/{r}/commits/{sha}`)
 * says which line texts its author added to which file; a line of the comparison belongs to every
 * login whose commits added that text to that file (a line several authors wrote, such as a lone
 * `}`, is each one's), and to nobody when only commits GitHub cannot map added it. A line another
 * author later rewrote is theirs: only landed lines count. The comparison's context and removed
 * lines stay in every slice (they were in the base), and each kept line keeps its line number.
 *
 * A push of more than `pushSplitCommitsMax` commits is not split (it would take a request per
 * commit): it credits nobody. Lines a commit's diff does not show (a file GitHub gives no patch
 * for, files past the first `commitFilesPerPage` of a commit) are credited to nobody: a login is
 * only ever given lines its own commits are seen to add.
 */
export async function loadPushedCodeByAuthor(
  client: GithubClient,
  ref: PushRef,
  log?: (line: string) => void,
): Promise<MergedPull[]> {
  const { pull, commits } = await readPush(client, ref);
  const authors = new Map<string, string>();
  for (const entry of commits)
    if (entry.authorLogin !== null) authors.set(entry.authorLogin.toLowerCase(), entry.authorLogin);
  if (!pull.merged || pull.authorLogin !== null || authors.size === 0) return [pull];
  if (commits.length > pushSplitCommitsMax) {
    log?.(
      `${pull.repo}@${ref.after}: ${commits.length} commits by several authors, more than the ${pushSplitCommitsMax} read one by one to tell their lines apart; it credits nobody.`,
    );
    return [pull];
  }
  // Per author (lower case): file -> the line texts their commits added to it.
  const added = new Map<string, Map<string, Set<string>>>();
  for (const entry of commits) {
    if (entry.authorLogin === null) continue;
    const { data } = await client.rest.repos.getCommit({
      owner: ref.owner,
      repo: ref.repo,
      ref: entry.sha,
      per_page: commitFilesPerPage,
    });
    const files = data.files ?? [];
    const key = entry.authorLogin.toLowerCase();
    const byFile = added.get(key) ?? new Map<string, Set<string>>();
    added.set(key, byFile);
    for (const file of files) {
      const texts = byFile.get(file.filename) ?? new Set<string>();
      byFile.set(file.filename, texts);
      for (const line of extractAddedLines(file.patch ?? '', file.filename)) texts.add(line.text);
    }
  }
  const slices: MergedPull[] = [];
  for (const [key, login] of authors) {
    const byFile = added.get(key) ?? new Map<string, Set<string>>();
    const own = commits.filter((entry) => entry.authorLogin?.toLowerCase() === key);
    const files = pull.files
      .map((file) => {
        const texts = byFile.get(file.path);
        return { path: file.path, patch: slicePatch(file.patch, (text) => texts?.has(text) === true) };
      })
      .filter((file) => extractAddedLines(file.patch, file.path).length > 0);
    slices.push({
      ...pull,
      mergedAt: landedAt(own, ref.receivedAt),
      authorLogin: login,
      mergedByLogin: login,
      commits: own.map(({ sha, message, authorLogin }) => ({ sha, message, authorLogin })),
      files,
    });
  }
  return slices;
}

/** Files of one commit read, in one answer (GitHub's largest page). */
const commitFilesPerPage = 300;
/** Commits of a push of several authors read one by one to tell their lines apart. */
export const pushSplitCommitsMax = 50;

interface PushedCommit {
  sha: string;
  message: string;
  authorLogin: string | null;
  committedAt: string | null;
}

async function readPush(client: GithubClient, ref: PushRef): Promise<{ pull: MergedPull; commits: PushedCommit[] }> {
  const { owner, repo, before, after } = ref;
  const commits: PushedCommit[] = [];
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
  const pull: MergedPull = {
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
  return { pull, commits };
}

const hunkHeader = /^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@/;

/**
 * A GitHub `patch` without the added lines `keep` refuses: every other line stays, and the hunks
 * are cut where a line was left out, so each kept line keeps its number in the old and new file.
 */
export function slicePatch(patch: string, keep: (text: string) => boolean): string {
  const out: string[] = [];
  let hunk: { oldStart: number; newStart: number; oldCount: number; newCount: number; lines: string[] } | undefined;
  let oldLine = 0;
  let newLine = 0;
  let oldLeft = 0;
  let newLeft = 0;
  const close = () => {
    if (hunk !== undefined && hunk.lines.length > 0)
      out.push(`@@ -${hunk.oldStart},${hunk.oldCount} +${hunk.newStart},${hunk.newCount} @@`, ...hunk.lines);
    hunk = undefined;
  };
  const append = (line: string, olds: number, news: number) => {
    hunk ??= { oldStart: oldLine, newStart: newLine, oldCount: 0, newCount: 0, lines: [] };
    hunk.lines.push(line);
    hunk.oldCount += olds;
    hunk.newCount += news;
  };
  for (const line of patch.split(/\r?\n/)) {
    if (oldLeft > 0 || newLeft > 0) {
      const marker = line.charAt(0);
      if (marker === '\\') {
        if (hunk !== undefined) hunk.lines.push(line);
      } else if (marker === '+') {
        if (keep(line.slice(1))) append(line, 0, 1);
        else close();
        newLine += 1;
        newLeft -= 1;
      } else if (marker === '-') {
        append(line, 1, 0);
        oldLine += 1;
        oldLeft -= 1;
      } else {
        append(line, 1, 1);
        oldLine += 1;
        newLine += 1;
        oldLeft -= 1;
        newLeft -= 1;
      }
      continue;
    }
    // `\ No newline at end of file` follows the hunk's last line.
    if (line.startsWith('\\')) {
      hunk?.lines.push(line);
      continue;
    }
    const header = hunkHeader.exec(line);
    if (header === null) continue;
    close();
    oldLine = Number(header[1]);
    oldLeft = header[2] === undefined ? 1 : Number(header[2]);
    newLine = Number(header[3]);
    newLeft = header[4] === undefined ? 1 : Number(header[4]);
  }
  close();
  return out.join('\n');
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
