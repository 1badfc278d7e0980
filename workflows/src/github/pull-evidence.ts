// Pure steps of the GitHub relay: which team configurations watch a repository, the evidence keys
// of a merged pull request, which indexed requests may be matched, and the evidence each match sends.
import { commitProvenance, fromJsonValue } from '@tokenwise/core';
import { evidenceLookupKeysMax, type GithubEvidence, type MatchInput } from '@tokenwise/db';
import {
  fingerprintKey,
  fingerprintPull,
  githubCommitsConfigSchema,
  githubCommitsPluginId,
  githubEvidencePayload,
  githubMatchEvidenceId,
  githubEvidenceSource,
  requestKey,
  sessionKey,
  type GithubCommitsConfig,
  type MergedPull,
  type PendingRequest,
  type RequestMatch,
} from '@tokenwise/plugin-github-commits';
import type { ExternalEvidence } from '@tokenwise/plugin-sdk';
import { externalEvidenceProblem } from '../settlement/external-evidence';

/** A configuration parsed with the plugin's schema, or undefined when it no longer parses. */
export function parseGithubConfig(config: unknown): GithubCommitsConfig | undefined {
  const parsed = githubCommitsConfigSchema.safeParse(config ?? {});
  return parsed.success ? parsed.data : undefined;
}

/** Whether `config` watches `repo` (`owner/name`, compared as GitHub does, case-insensitively). */
export function configWatches(config: GithubCommitsConfig, repo: string): boolean {
  const wanted = repo.toLowerCase();
  if (config.owner !== undefined) return wanted.split('/')[0] === config.owner.toLowerCase();
  return (config.repositories ?? []).some((entry) => entry.toLowerCase() === wanted);
}

/** Where a configuration loads pull requests from: its GitHub (or Enterprise Server) and its token's secret name. */
export function sourceKey(config: GithubCommitsConfig): string {
  return `${config.baseUrl ?? 'https://api.github.com'} ${config.tokenSecret}`;
}

/** The winnowing parameters a configuration fingerprints with, as one key. */
export function winnowingKey(config: GithubCommitsConfig): string {
  return `${config.k}/${config.w}`;
}

/**
 * The keys a merged pull request is looked up under: its added code's fingerprints (with the
 * configuration's k and w), and the request and session ids its author's commits (and the webhook's
 * title and description) name in trailers. Bounded by the index's lookup limit.
 */
export function pullEvidenceKeys(
  pull: MergedPull,
  evidence: Pick<GithubEvidence, 'requestIds' | 'sessionIds'>,
  winnowing: { k: number; w: number },
): string[] {
  const keys = new Set<string>();
  const author = pull.authorLogin?.toLowerCase();
  const requestIds = new Set(evidence.requestIds);
  const sessionIds = new Set(evidence.sessionIds);
  for (const commit of pull.commits) {
    if (author === undefined || commit.authorLogin?.toLowerCase() !== author) continue;
    const found = commitProvenance(commit.message);
    for (const id of found.requestIds) requestIds.add(id);
    for (const id of found.sessionIds) sessionIds.add(id);
  }
  for (const id of requestIds) keys.add(requestKey(id));
  for (const id of sessionIds) keys.add(sessionKey(id));
  for (const hash of fingerprintPull(pull, winnowing).hashes) {
    if (keys.size >= evidenceLookupKeysMax) break;
    keys.add(fingerprintKey(hash));
  }
  return [...keys];
}

/** The github-commits configuration a request's team had pinned at admission, or undefined. */
export function pinnedGithubConfig(plugins: unknown): GithubCommitsConfig | undefined {
  const entries = plugins === null || plugins === undefined ? [] : fromJsonValue(plugins);
  if (!Array.isArray(entries)) return undefined;
  const entry = (entries as { pluginId?: unknown; config?: unknown }[]).find(
    (candidate) => candidate.pluginId === githubCommitsPluginId,
  );
  return entry === undefined ? undefined : parseGithubConfig(entry.config);
}

/** A request that may be matched, with the configuration it is judged under. */
export interface Candidate {
  readonly request: PendingRequest;
  readonly config: GithubCommitsConfig;
}

/**
 * The indexed requests a pull request may be matched against under one winnowing setting: not
 * system usage, with a stored completion and a linked login, whose pinned configuration watches
 * the repository with the same k and w, and which the pull request merged after and within that
 * team's window. The author check (the login) is the matcher's.
 */
export function candidatesFor(
  inputs: readonly MatchInput[],
  pull: MergedPull,
  winnowing: { k: number; w: number },
): Candidate[] {
  const mergedAtMs = pull.mergedAt === null ? Number.NaN : Date.parse(pull.mergedAt);
  return inputs.flatMap((input) => {
    if (input.system || input.completion === null || input.githubLogin === null) return [];
    const config = pinnedGithubConfig(input.plugins);
    if (config === undefined || !configWatches(config, pull.repo)) return [];
    if (config.k !== winnowing.k || config.w !== winnowing.w) return [];
    const createdAtMs = input.createdAt.getTime();
    if (!(mergedAtMs > createdAtMs && mergedAtMs - createdAtMs <= config.windowDays * 86_400_000)) return [];
    const request: PendingRequest = {
      requestId: input.requestId,
      createdAt: input.createdAt,
      userGithubLogin: input.githubLogin,
      completion: input.completion,
      ...(input.sessionId === null ? {} : { sessionId: input.sessionId }),
    };
    return [{ request, config }];
  });
}

/**
 * The external evidence one match sends to its request's settlement: the plugin's payload
 * (checked by its schema), under one evidence id per pull request or per push (`after`), so a
 * redelivery counts once.
 * Throws when the payload breaks the schema or the host's bounds (4 KiB).
 */
export function githubEvidenceFor(match: RequestMatch): ExternalEvidence {
  const evidence: ExternalEvidence = {
    pluginId: githubCommitsPluginId,
    evidenceId: githubMatchEvidenceId(match.pull),
    source: githubEvidenceSource,
    observedAt: match.pull.mergedAt,
    payload: githubEvidencePayload(match) as unknown as ExternalEvidence['payload'],
  };
  const problem = externalEvidenceProblem(evidence);
  if (problem !== undefined) throw new Error(`evidence for ${match.requestId} refused: ${problem}`);
  return evidence;
}

/** What the relay loads for one evidence row: a pull request, a push's comparison, or nothing (and why). */
export type Landing =
  | { readonly kind: 'pull'; readonly pullNumber: number }
  | { readonly kind: 'push'; readonly before: string; readonly after: string }
  | { readonly kind: 'none'; readonly reason: string };

const shaPattern = /^[0-9a-f]{40}(?:[0-9a-f]{24})?$/;

/**
 * How one evidence row is relayed. A push to the default branch is code that landed without a pull
 * request (the receiver already dropped pushes to other branches and deletions). Two kinds of push
 * credit nobody, on purpose:
 * - a push that created the branch (`before` all zeros): there is no base to diff against, so every
 *   line of the repository would count as added; it is an import of existing history, not new code;
 * - a forced push: it rewrote the branch, so `before...after` diffs against a history that is gone,
 *   and the code it brings back may already have been credited; what survives lands again by the
 *   next ordinary push or pull request.
 */
export function landingOf(
  evidence: Pick<GithubEvidence, 'kind' | 'pullNumber' | 'beforeSha' | 'mergeCommitSha' | 'forced'>,
): Landing {
  if (evidence.kind === 'pull_request') {
    return evidence.pullNumber === null
      ? { kind: 'none', reason: 'a pull request without a number' }
      : { kind: 'pull', pullNumber: evidence.pullNumber };
  }
  const before = evidence.beforeSha?.toLowerCase();
  const after = evidence.mergeCommitSha?.toLowerCase();
  if (evidence.forced) return { kind: 'none', reason: 'a forced push rewrote the branch; it credits nobody' };
  if (before === undefined || after === undefined || !shaPattern.test(before) || !shaPattern.test(after))
    return { kind: 'none', reason: 'a push without its before and after commits' };
  if (/^0+$/.test(before))
    return { kind: 'none', reason: 'a push that created the branch has no base to diff against; it credits nobody' };
  return { kind: 'push', before, after };
}
