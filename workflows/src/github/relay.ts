import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { ConfigError } from '@tokenwise/core';
import {
  countOutboxAttempt,
  currentPluginConfigs,
  findGithubEvidence,
  findMatchInputs,
  findRequestsByEvidenceKeys,
  markOutboxDelivered,
  matchInputsMax,
  pendingGithubEvidenceOutboxRows,
  widelySharedEvidenceKeys,
  type Db,
  type GithubEvidence,
} from '@tokenwise/db';
import {
  createGithubClient,
  githubCommitsPluginId,
  githubMatchEvidenceId,
  GithubRateLimitError,
  loadMergedPull,
  loadPushedCodeByAuthor,
  matchPullToRequests,
  windowDaysMax,
  type GithubClient,
  type GithubClientOptions,
  type GithubCommitsConfig,
  type MergedPull,
} from '@tokenwise/plugin-github-commits';
import { createJsonLogger, type ExternalEvidence, type PluginSecrets } from '@tokenwise/plugin-sdk';
import { startRelayLoop, type OutboxRelay } from '../relay-loop';
import { externalEvidenceSignal } from '../settlement/queries';
import { settlementWorkflowId } from '../settlement/relay';
import {
  candidatesFor,
  configWatches,
  githubEvidenceFor,
  landingOf,
  parseGithubConfig,
  pullEvidenceKeys,
  sourceKey,
  winnowingKey,
  type Landing,
} from './pull-evidence';

/** Evidence outbox rows taken per pass. */
export const githubRelayBatchMax = 10;
/** First wait before a row that failed (GitHub down, token missing, Temporal down) is tried again; it doubles per attempt. */
export const githubRelayRetryMsMin = 1_000;
/** Longest wait between two attempts of one row. */
export const githubRelayRetryMsMax = 15 * 60_000;
/**
 * A fingerprint indexed under this many of an org's waiting requests is boilerplate and never
 * counts (the labelled set's setting: 8 documents).
 */
export const githubRelayFrequentRequestsMin = 8;
/** Longest one signal may take before the pass gives up on it (and the row is retried). */
const signalDeadlineMs = 10_000;

/** What relaying one evidence row did. */
export interface GithubRelayOutcome {
  signalled: number;
  /** Matched requests whose settlement had closed or never started. */
  skipped: number;
}

/** Why a row waits: said once in the log (never a secret's value), and when it is tried next. */
class Deferral extends Error {
  constructor(
    message: string,
    readonly retryAfterMs?: number,
  ) {
    super(message);
  }
}

export interface GithubRelayDeps {
  db: Db;
  client: Client;
  /**
   * The secrets of one org, where its team configurations' `tokenSecret` is read
   * (TOKENWISE_SECRET_<ORG>__<NAME>, or a shared one listed for it): never another org's.
   */
  secretsFor: (orgId: string) => PluginSecrets | Promise<PluginSecrets>;
  intervalMs?: number;
  log?: (line: string) => void;
  /** Options of every GitHub client the relay creates (tests shrink the waits). */
  githubOptions?: Partial<Omit<GithubClientOptions, 'token' | 'baseUrl' | 'log'>>;
  /** Called after each row is handled: what it did, or why it waits. */
  onRow?: (row: { evidenceId: string; outcome?: GithubRelayOutcome; deferred?: string }) => void;
}

/**
 * Relays each merged pull request and each push to a default branch the webhook receiver recorded
 * (outbox kind `github_evidence`) to the settlements it concerns. A push is code that landed
 * without a pull request, so without anyone else's review: it is matched as a pull request
 * self-merged by its commits' author (a push of several authors' commits as one per author, each
 * holding the lines its author's commits added: `loadPushedCodeByAuthor`), which counts only at
 * each team's `selfMergeWeight` (0 by default: nothing is sent, and GitHub is not asked), under one
 * evidence id per push
 * (`github-push-<repo>@<after>`); a forced push or one that created the branch credits nobody
 * (`landingOf`). For each org whose team configurations watch the repository it
 * loads the pull request from GitHub with that org's configured token, fingerprints it, finds the
 * org's waiting requests through the evidence index (never scanning Temporal, never another org's
 * requests), matches them (the author must be the request's user's linked login; each merged line
 * goes to the earliest request) and signals each matched settlement once per pull request
 * (evidence id `github-pull-<repo>#<n>`, so a redelivery or a resumed pass wakes nothing twice). A
 * missing token, a GitHub outage or rate limit, or Temporal being down leaves the row in the outbox
 * to be retried with back-off; it is delivered once every watching org was handled.
 */
export function startGithubRelay(deps: GithubRelayDeps): OutboxRelay {
  const log = deps.log ?? ((line: string) => process.stderr.write(`[github relay] ${line}\n`));
  // Octokit logs every request at info: only its warnings (rate limits) and errors are worth a line.
  const githubLog = { ...createJsonLogger({ component: 'github relay' }), info: () => {} };
  const clients = new Map<string, GithubClient>();
  /** Rows waiting out a back-off: outbox id -> when to try again and how many attempts failed. */
  const waiting = new Map<bigint, { untilMs: number; attempts: number }>();

  /** One client per org and source: two orgs naming the same secret still use their own tokens. */
  const githubFor = async (orgId: string, config: GithubCommitsConfig): Promise<GithubClient> => {
    const key = `${orgId} ${sourceKey(config)}`;
    let client = clients.get(key);
    if (client === undefined) {
      let token: string;
      try {
        token = (await deps.secretsFor(orgId)).get(config.tokenSecret);
      } catch (error) {
        if (!(error instanceof ConfigError)) throw error;
        throw new Deferral(`org ${orgId}'s GitHub token: ${error.message}`);
      }
      client = createGithubClient({
        ...deps.githubOptions,
        token,
        ...(config.baseUrl === undefined ? {} : { baseUrl: config.baseUrl }),
        log: githubLog,
      });
      clients.set(key, client);
    }
    return client;
  };

  const signal = async (requestId: string, evidence: ExternalEvidence): Promise<'signalled' | 'skipped'> => {
    try {
      await deps.client.connection.withDeadline(Date.now() + signalDeadlineMs, () =>
        deps.client.workflow.getHandle(settlementWorkflowId(requestId)).signal(externalEvidenceSignal, evidence),
      );
      return 'signalled';
    } catch (error) {
      if (error instanceof WorkflowNotFoundError) return 'skipped';
      throw error;
    }
  };

  /** Matches one loaded pull request against one org's waiting requests under one k and w; signals each match. */
  const relayToOrg = async (
    orgId: string,
    evidence: GithubEvidence,
    pull: MergedPull,
    winnowing: { k: number; w: number },
    done: Set<string>,
    outcome: GithubRelayOutcome,
  ) => {
    const keys = pullEvidenceKeys(pull, evidence, winnowing);
    const lookup = { orgId, pluginId: githubCommitsPluginId, keys, now: new Date() };
    const hits = await findRequestsByEvidenceKeys(deps.db, { ...lookup, limit: matchInputsMax });
    const inputs = await findMatchInputs(deps.db, { orgId, requestIds: hits.map((hit) => hit.requestId) });
    const candidates = candidatesFor(inputs, pull, winnowing).filter(({ request }) => !done.has(request.requestId));
    if (candidates.length === 0) return;
    const frequent = await widelySharedEvidenceKeys(deps.db, {
      ...lookup,
      keys: keys.filter((key) => key.startsWith('fp:')),
      requestsMin: githubRelayFrequentRequestsMin,
    });
    const matches = matchPullToRequests({
      pull,
      candidates: candidates.map(({ request }) => request),
      options: {
        winnowing,
        ignored: new Set(frequent.map((key) => Number(key.slice('fp:'.length)))),
        // Each request's own plugin applies its team's weight and window; the matcher only must not drop them.
        selfMergeWeight: Math.max(...candidates.map(({ config }) => config.selfMergeWeight)),
        windowDays: windowDaysMax,
      },
    });
    for (const match of matches) {
      let payload: ExternalEvidence;
      try {
        payload = githubEvidenceFor(match);
      } catch (error) {
        log(`${githubMatchEvidenceId(match.pull)}: ${(error as Error).message}; not sent.`);
        continue;
      }
      if ((await signal(match.requestId, payload)) === 'signalled') outcome.signalled++;
      else outcome.skipped++;
      done.add(match.requestId);
    }
  };

  /**
   * The landed code `landing` names, loaded with `github` (one org's token): a merged pull request,
   * or a push as one slice per author (`loadPushedCodeByAuthor`); none when it did not land on the
   * default branch, or when it is a push and no team of `configs` weighs self-merges (nothing
   * could be sent, so GitHub is not asked).
   */
  const loadLanded = async (
    github: GithubClient,
    evidence: GithubEvidence,
    landing: Exclude<Landing, { kind: 'none' }>,
    configs: readonly GithubCommitsConfig[],
  ): Promise<MergedPull[]> => {
    const [owner, repo] = evidence.repositoryFullName.split('/') as [string, string];
    if (landing.kind === 'pull') {
      const pull = await loadMergedPull(github, { owner, repo, pullNumber: landing.pullNumber });
      return pull.merged && pull.intoDefaultBranch ? [pull] : [];
    }
    if (configs.every((config) => config.selfMergeWeight === 0)) return [];
    const slices = await loadPushedCodeByAuthor(
      github,
      {
        owner,
        repo,
        defaultBranch: evidence.baseRef,
        before: landing.before,
        after: landing.after,
        receivedAt: evidence.receivedAt,
      },
      log,
    );
    const landed = slices.filter((slice) => slice.merged);
    if (landed.length === 0)
      log(
        `${evidence.repositoryFullName}@${landing.after}: not a fast-forward of ${landing.before}; it credits nobody.`,
      );
    return landed;
  };

  const relayEvidence = async (evidence: GithubEvidence): Promise<GithubRelayOutcome> => {
    const outcome = { signalled: 0, skipped: 0 };
    const landing = landingOf(evidence);
    if (landing.kind === 'none') {
      if (evidence.kind === 'push')
        log(`${evidence.repositoryFullName}@${evidence.mergeCommitSha ?? '?'}: ${landing.reason}.`);
      return outcome;
    }
    const byOrg = new Map<string, GithubCommitsConfig[]>();
    for (const entry of await currentPluginConfigs(deps.db, { pluginId: githubCommitsPluginId })) {
      const config = parseGithubConfig(entry.config);
      if (config === undefined || !configWatches(config, evidence.repositoryFullName)) continue;
      byOrg.set(entry.orgId, [...(byOrg.get(entry.orgId) ?? []), config]);
    }
    const done = new Set<string>();
    for (const [orgId, configs] of byOrg) {
      // Each org's pull request is loaded with that org's own token: one org's access never serves another.
      const bySource = new Map<string, GithubCommitsConfig[]>();
      for (const config of configs)
        bySource.set(sourceKey(config), [...(bySource.get(sourceKey(config)) ?? []), config]);
      for (const sourceConfigs of bySource.values()) {
        const github = await githubFor(orgId, sourceConfigs[0]!);
        const pulls = await loadLanded(github, evidence, landing, sourceConfigs);
        const settings = new Map(sourceConfigs.map((config) => [winnowingKey(config), { k: config.k, w: config.w }]));
        for (const pull of pulls)
          for (const winnowing of settings.values()) await relayToOrg(orgId, evidence, pull, winnowing, done, outcome);
      }
    }
    return outcome;
  };

  const defer = async (outboxId: bigint, evidenceId: string, error: unknown) => {
    const attempts = (waiting.get(outboxId)?.attempts ?? 0) + 1;
    const backoffMs = Math.min(githubRelayRetryMsMin * 2 ** Math.min(attempts - 1, 20), githubRelayRetryMsMax);
    const rateLimitMs =
      error instanceof GithubRateLimitError && error.retryAfterSeconds !== undefined
        ? error.retryAfterSeconds * 1000
        : 0;
    const retryAfterMs = Math.min(
      Math.max(backoffMs, rateLimitMs, error instanceof Deferral ? (error.retryAfterMs ?? 0) : 0),
      githubRelayRetryMsMax,
    );
    waiting.set(outboxId, { untilMs: Date.now() + retryAfterMs, attempts });
    await countOutboxAttempt(deps.db, { id: outboxId });
    const reason = (error as Error).message;
    if (attempts === 1 || attempts % 10 === 0)
      log(
        `evidence ${evidenceId} waits (attempt ${attempts}, next in ${Math.round(retryAfterMs / 1000)} s): ${reason}`,
      );
    deps.onRow?.({ evidenceId, deferred: reason });
  };

  const runOnce = async (): Promise<number> => {
    const nowMs = Date.now();
    for (const [id, entry] of waiting) if (entry.untilMs <= nowMs) waiting.delete(id);
    const rows = await pendingGithubEvidenceOutboxRows(deps.db, {
      limit: githubRelayBatchMax,
      waitingIds: [...waiting.keys()],
    });
    for (const { outboxId, evidenceId } of rows) {
      const evidence = await findGithubEvidence(deps.db, { id: evidenceId });
      try {
        const outcome = evidence === undefined ? { signalled: 0, skipped: 0 } : await relayEvidence(evidence);
        await markOutboxDelivered(deps.db, { ids: [outboxId] });
        waiting.delete(outboxId);
        deps.onRow?.({ evidenceId, outcome });
      } catch (error) {
        await defer(outboxId, evidenceId, error);
      }
    }
    return rows.length;
  };

  return startRelayLoop({
    runOnce,
    batchMax: githubRelayBatchMax,
    intervalMs: deps.intervalMs ?? 1_000,
    log,
  });
}
