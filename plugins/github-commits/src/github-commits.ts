import { codeTokenCount, guaranteeThreshold } from '@tokenwise/core';
import {
  definePlugin,
  evidenceWindowSecondsMax,
  type PluginContext,
  type ScoreInput,
  type ScoreResult,
} from '@tokenwise/plugin-sdk';
import { githubCommitsConfigSchema, type GithubCommitsConfig } from './config';
import { completionEvidenceKeys } from './evidence-keys';
import { githubCommitsPluginId, githubEvidencePayloadSchema, type GithubEvidencePayload } from './evidence';

export const githubCommitsVersion = '0.1.0';

/**
 * Commit linkage: refunds the compute that became merged code. The worker's relay matches merged
 * pull requests to pending requests and sends each match as external evidence; this plugin waits
 * for it (pending) until the team's window closes, then scores the best match.
 */
export const githubCommits = definePlugin<GithubCommitsConfig>({
  id: githubCommitsPluginId,
  version: githubCommitsVersion,
  configSchema: githubCommitsConfigSchema,
  // The host waits as long as any team's window may be; each team's windowDays closes it earlier.
  evidenceWindowSeconds: evidenceWindowSecondsMax,
  // Evidence wakes the settlement by signal; the poll only notices that the team's window closed.
  pollIntervalSeconds: 60 * 60,
  score: scoreFromEvidence,
});

interface WeightedMatch {
  readonly payload: GithubEvidencePayload;
  readonly weight: number;
  readonly score: number;
  readonly confidence: number;
}

async function scoreFromEvidence(input: ScoreInput<GithubCommitsConfig>, ctx: PluginContext): Promise<ScoreResult> {
  const config = input.config;
  const t = guaranteeThreshold(config);
  const codeTokens = codeTokenCount(input.completion);
  if (codeTokens < t) {
    return {
      status: 'not_applicable',
      reason: `The completion has ${codeTokens} code tokens, fewer than the ${t} (w + k - 1) it takes to recognise it in a merged diff.`,
    };
  }
  const windowEndMs = input.createdAt.getTime() + config.windowDays * 86_400_000;
  const matches = acceptedEvidence(input, ctx, windowEndMs).map((payload) => weigh(payload, config));
  const best = matches.reduce<WeightedMatch | undefined>(
    (kept, match) =>
      kept === undefined ||
      match.score > kept.score ||
      (match.score === kept.score && match.confidence > kept.confidence)
        ? match
        : kept,
    undefined,
  );
  if (best === undefined || best.score < config.minContainment) {
    if (ctx.clock.now().getTime() > windowEndMs) {
      return {
        status: 'not_applicable',
        reason: `No merged pull request held at least ${percent(config.minContainment)} of this completion's code within ${config.windowDays} days.`,
      };
    }
    return {
      status: 'pending',
      reason: pendingReason(best, config),
      // The host indexes these for the window: the relay finds this request by a merged pull's keys.
      evidenceKeys: completionEvidenceKeys({
        requestId: input.requestId,
        sessionId: input.sessionId,
        completion: input.completion,
        winnowing: { k: config.k, w: config.w },
      }),
    };
  }
  const { payload } = best;
  return {
    status: 'scored',
    score: best.score,
    confidence: best.confidence,
    evidence: {
      pull: { ...payload.pull },
      containment: payload.containment,
      matchedTokens: payload.matchedTokens,
      longestRunTokens: payload.longestRunTokens,
      provenance: payload.provenance,
      coAuthor: payload.coAuthor,
      selfMerged: payload.selfMerged,
      approvedByOther: payload.approvedByOther,
      weight: best.weight,
      pullsMatched: matches.length,
    },
    rationale: rationale(best),
  };
}

/** This request's evidence, valid and from inside the team's window; anything else is logged and left out. */
function acceptedEvidence(input: ScoreInput<GithubCommitsConfig>, ctx: PluginContext, windowEndMs: number) {
  const accepted: GithubEvidencePayload[] = [];
  for (const evidence of input.externalEvidence ?? []) {
    if (evidence.pluginId !== githubCommitsPluginId) continue;
    const parsed = githubEvidencePayloadSchema.safeParse(evidence.payload);
    const problem = !parsed.success
      ? `invalid payload: ${parsed.error.issues[0]?.message ?? 'unknown'}`
      : parsed.data.requestId !== input.requestId
        ? 'names another request'
        : !withinWindow(parsed.data.pull.mergedAt, input.createdAt.getTime(), windowEndMs)
          ? 'merged outside the window'
          : undefined;
    if (problem !== undefined || !parsed.success) {
      ctx.logger.warn('github evidence left out', {
        requestId: input.requestId,
        evidenceId: evidence.evidenceId,
        problem,
      });
      continue;
    }
    accepted.push(parsed.data);
  }
  return accepted;
}

function withinWindow(mergedAt: string, createdAtMs: number, windowEndMs: number): boolean {
  const mergedAtMs = Date.parse(mergedAt);
  return mergedAtMs > createdAtMs && mergedAtMs <= windowEndMs;
}

function weigh(payload: GithubEvidencePayload, config: GithubCommitsConfig): WeightedMatch {
  const weight = payload.selfMerged && !payload.approvedByOther ? config.selfMergeWeight : 1;
  return { payload, weight, score: payload.containment * weight, confidence: confidenceOf(payload, config) };
}

/**
 * Confidence from how much was matched and how it is known. Content alone: 0.4 at a shared run of
 * t tokens (the least that counts) up to 0.85 at 4t (a dozen lines), plus 0.05 for an AI
 * co-author trailer. A trailer naming the request's session: at least 0.8. Naming the request
 * itself: at least 0.95, the author's own statement next to the code.
 */
export function confidenceOf(
  payload: Pick<GithubEvidencePayload, 'longestRunTokens' | 'provenance' | 'coAuthor'>,
  config: { k: number; w: number },
): number {
  const t = guaranteeThreshold(config);
  const length = Math.min(Math.max((payload.longestRunTokens - t) / (3 * t), 0), 1);
  if (payload.provenance === 'request') return 0.95 + 0.05 * length;
  if (payload.provenance === 'session') return 0.8 + 0.15 * length;
  return Math.min(0.4 + 0.45 * length + (payload.coAuthor ? 0.05 : 0), 0.9);
}

/** `owner/name#12` for a pull request, `a push to owner/name (abc1234)` for a push. */
function landing(pull: GithubEvidencePayload['pull']): string {
  return pull.after === undefined
    ? `${pull.repo}#${pull.number}`
    : `a push to ${pull.repo} (${pull.after.slice(0, 7)})`;
}

function pendingReason(best: WeightedMatch | undefined, config: GithubCommitsConfig): string {
  if (best === undefined) return 'No merged pull request with code of this completion yet.';
  const { pull } = best.payload;
  if (best.weight < 1 && best.payload.containment >= config.minContainment) {
    const how =
      pull.after === undefined
        ? "was merged by its author without another reviewer's approval"
        : 'was pushed straight to the default branch, with no review by anyone else';
    return `${landing(pull)} holds this code but ${how}, which this team weighs at ${config.selfMergeWeight}.`;
  }
  return `${landing(pull)} holds only ${percent(best.payload.containment)} of this completion's code (at least ${percent(config.minContainment)} counts); waiting for more.`;
}

function rationale(best: WeightedMatch): string {
  const { payload, weight } = best;
  const via =
    payload.provenance === 'request'
      ? ', and a commit names this request'
      : payload.provenance === 'session'
        ? ", and a commit names this request's session"
        : payload.coAuthor
          ? ', committed with an AI co-author trailer'
          : '';
  const unreviewed = payload.pull.after === undefined ? 'self-merged without approval' : 'pushed without review';
  const weighted = weight < 1 ? ` It was ${unreviewed}, so it counts at weight ${weight}.` : '';
  return `${percent(payload.containment)} of this completion's code was merged in ${landing(payload.pull)} (longest shared run ${payload.longestRunTokens} tokens${via}).${weighted}`;
}

function percent(share: number): string {
  return `${Math.round(share * 100)}%`;
}
