import { commitProvenance } from '@tokenwise/core';
import type { GithubEvidenceInput } from '@tokenwise/db';
import type { GithubEvidenceCommit } from '@tokenwise/db/schema';
import { z } from 'zod';

/** Commits kept per push (GitHub sends up to 2,048); trailers of all of them are read. */
export const githubEvidenceCommitsMax = 256;
/** Characters kept of each commit message, after its trailers were read from the whole. */
export const githubCommitMessageCharsMax = 2_000;
/** Request and session ids kept per evidence row. */
export const githubEvidenceIdsMax = 256;

export type WebhookDecision =
  | { outcome: 'ping' }
  | { outcome: 'ignored'; reason: string }
  | { outcome: 'evidence'; evidence: GithubEvidenceInput }
  | { outcome: 'invalid'; message: string };

const login = z.string().max(39);
const repository = z.object({ full_name: z.string().min(3).max(200), default_branch: z.string().min(1).max(255) });
const pullRequestEvent = z.object({
  action: z.string().max(64),
  repository,
  pull_request: z.object({
    number: z.number().int().positive(),
    merged: z.boolean().nullable().optional(),
    merged_at: z.string().max(40).nullable(),
    merge_commit_sha: z.string().max(64).nullable(),
    title: z.string().max(1_024),
    body: z.string().max(262_144).nullable(),
    user: z.object({ login }).nullable(),
    merged_by: z.object({ login }).nullable().optional(),
    base: z.object({ ref: z.string().max(255) }),
  }),
});
const pushEvent = z.object({
  ref: z.string().max(255),
  before: z.string().max(64),
  after: z.string().max(64),
  deleted: z.boolean(),
  forced: z.boolean().optional(),
  repository,
  sender: z.object({ login }).optional(),
  commits: z
    .array(
      z.object({
        id: z.string().max(64),
        message: z.string().max(1_048_576),
        timestamp: z.string().max(40),
        author: z.object({ username: login.optional() }),
      }),
    )
    .max(4_096),
});

function provenanceOf(messages: string[]) {
  const requestIds = new Set<string>();
  const sessionIds = new Set<string>();
  for (const message of messages) {
    const found = commitProvenance(message);
    for (const id of found.requestIds) if (requestIds.size < githubEvidenceIdsMax) requestIds.add(id);
    for (const id of found.sessionIds) if (sessionIds.size < githubEvidenceIdsMax) sessionIds.add(id);
  }
  return { requestIds: [...requestIds], sessionIds: [...sessionIds] };
}

function invalid(event: string, error: z.ZodError): WebhookDecision {
  const issue = error.issues[0];
  return {
    outcome: 'invalid',
    message: `The ${event} payload's ${issue?.path.join('.') ?? 'body'} is not as GitHub sends it: ${issue?.message ?? ''}`,
  };
}

function pullRequestDecision(payload: unknown): WebhookDecision {
  const parsed = pullRequestEvent.safeParse(payload);
  if (!parsed.success) return invalid('pull_request', parsed.error);
  const { action, repository: repo, pull_request: pull } = parsed.data;
  if (action !== 'closed') return { outcome: 'ignored', reason: `pull_request action ${action}` };
  if (pull.merged !== true || pull.merged_at === null) return { outcome: 'ignored', reason: 'closed without merging' };
  if (pull.base.ref !== repo.default_branch)
    return {
      outcome: 'ignored',
      reason: `merged into ${pull.base.ref}, not the default branch ${repo.default_branch}`,
    };
  // A squash merge's message is built from the pull request: its description's trailers count too.
  const ids = provenanceOf([`${pull.title}\n\n${pull.body ?? ''}`]);
  return {
    outcome: 'evidence',
    evidence: {
      kind: 'pull_request',
      repositoryFullName: repo.full_name,
      pullNumber: pull.number,
      baseRef: pull.base.ref,
      mergeCommitSha: pull.merge_commit_sha,
      beforeSha: null,
      forced: false,
      authorLogin: pull.user?.login ?? null,
      mergedByLogin: pull.merged_by?.login ?? null,
      mergedAt: new Date(pull.merged_at),
      commits: [],
      ...ids,
    },
  };
}

function pushDecision(payload: unknown): WebhookDecision {
  const parsed = pushEvent.safeParse(payload);
  if (!parsed.success) return invalid('push', parsed.error);
  const push = parsed.data;
  const defaultRef = `refs/heads/${push.repository.default_branch}`;
  if (push.ref !== defaultRef) return { outcome: 'ignored', reason: `push to ${push.ref}, not ${defaultRef}` };
  if (push.deleted) return { outcome: 'ignored', reason: 'the push deleted the branch' };
  const commits: GithubEvidenceCommit[] = push.commits.slice(0, githubEvidenceCommitsMax).map((commit) => {
    const found = commitProvenance(commit.message);
    return {
      sha: commit.id,
      message: commit.message.slice(0, githubCommitMessageCharsMax),
      authorLogin: commit.author.username ?? null,
      timestamp: commit.timestamp,
      requestIds: found.requestIds,
      sessionIds: found.sessionIds,
      aiCoauthors: found.aiCoauthors,
    };
  });
  return {
    outcome: 'evidence',
    evidence: {
      kind: 'push',
      repositoryFullName: push.repository.full_name,
      pullNumber: null,
      baseRef: push.repository.default_branch,
      mergeCommitSha: push.after,
      // Kept so the relay diffs before...after, and decides about a new branch or a forced push.
      beforeSha: push.before,
      forced: push.forced === true,
      authorLogin: push.sender?.login ?? null,
      mergedByLogin: null,
      mergedAt: null,
      commits,
      ...provenanceOf(push.commits.map((commit) => commit.message)),
    },
  };
}

/** What the receiver does with one verified delivery: pure, so every rule is tested without HTTP. */
export function decideGithubWebhook(event: string, payload: unknown): WebhookDecision {
  if (event === 'ping') return { outcome: 'ping' };
  if (event === 'pull_request') return pullRequestDecision(payload);
  if (event === 'push') return pushDecision(payload);
  return { outcome: 'ignored', reason: `event ${event}` };
}
