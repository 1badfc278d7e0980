import { invariant } from '@tokenwise/core';
import { and, asc, countDistinct, eq, gt, gte, inArray, isNull, notInArray, sql } from 'drizzle-orm';
import type { Db } from '../client';
import {
  evidenceIndex,
  githubAccounts,
  outbox,
  requestPayloads,
  scoringConfigs,
  teams,
  usageRecords,
} from '../schema/index';
import { evidenceLookupKeysMax } from './evidence-index';
import { githubEvidenceOutboxKind } from './github-evidence';

/** Team configurations one relay pass reads at most (every team of every org that enabled the plugin). */
export const pluginConfigsMax = 10_000;
/** Requests whose match inputs one lookup loads at most. */
export const matchInputsMax = 10_000;
/** Outbox rows a pass may leave aside (waiting out a back-off) while it reads the next ones. */
export const waitingOutboxIdsMax = 1_000;

/** Undelivered `github_evidence` outbox rows, oldest first, leaving out `waitingIds` (rows in back-off). */
export async function pendingGithubEvidenceOutboxRows(
  db: Db,
  params: { limit: number; waitingIds?: readonly bigint[] },
): Promise<{ outboxId: bigint; evidenceId: string }[]> {
  const waiting = [...(params.waitingIds ?? [])].slice(0, waitingOutboxIdsMax);
  return db
    .select({ outboxId: outbox.id, evidenceId: outbox.requestId })
    .from(outbox)
    .where(
      and(
        isNull(outbox.deliveredAt),
        eq(outbox.kind, githubEvidenceOutboxKind),
        waiting.length === 0 ? undefined : notInArray(outbox.id, waiting),
      ),
    )
    .orderBy(asc(outbox.id))
    .limit(params.limit);
}

/** One team's current configuration of a plugin, with its org. */
export interface TeamPluginConfig {
  orgId: string;
  teamId: string;
  /** The plugin's entry `config` as stored (valid for the plugin's schema when written). */
  config: unknown;
}

/**
 * The current (newest) configuration of `pluginId` of every team that enables it, across orgs:
 * how the GitHub relay learns which orgs watch a repository, and with which token.
 */
export async function currentPluginConfigs(
  db: Db,
  params: { pluginId: string; limit?: number },
): Promise<TeamPluginConfig[]> {
  const limit = Math.min(params.limit ?? pluginConfigsMax, pluginConfigsMax);
  const rows = await db
    .select({ orgId: teams.orgId, teamId: scoringConfigs.teamId, plugins: scoringConfigs.plugins })
    .from(scoringConfigs)
    .innerJoin(teams, eq(teams.id, scoringConfigs.teamId))
    .where(
      and(
        sql`${scoringConfigs.version} = (select max(n.version) from scoring_configs n where n.team_id = ${scoringConfigs.teamId})`,
        sql`${scoringConfigs.plugins} @> ${JSON.stringify([{ pluginId: params.pluginId }])}::jsonb`,
      ),
    )
    .orderBy(asc(teams.orgId), asc(scoringConfigs.teamId))
    .limit(limit);
  return rows.flatMap(({ orgId, teamId, plugins }) => {
    const entry = (Array.isArray(plugins) ? (plugins as { pluginId?: unknown; config?: unknown }[]) : []).find(
      (plugin) => plugin.pluginId === params.pluginId,
    );
    return entry === undefined ? [] : [{ orgId, teamId, config: entry.config ?? {} }];
  });
}

/** What matching a merged pull request needs of one request of the org. */
export interface MatchInput {
  requestId: string;
  userId: string | null;
  createdAt: Date;
  sessionId: string | null;
  system: boolean;
  /** The completion, or null when purged. */
  completion: string | null;
  /** The GitHub login its user linked in this org, or null. */
  githubLogin: string | null;
  /** The team's scoring plugins as pinned at admission (stored JSON), or null. */
  plugins: unknown;
}

/**
 * The match inputs of `requestIds` that belong to `orgId` (others are left out, whatever the caller
 * asked): completion, the user's linked login in this org, and the scoring config pinned at admission.
 */
export async function findMatchInputs(
  db: Db,
  params: { orgId: string; requestIds: readonly string[] },
): Promise<MatchInput[]> {
  invariant(params.requestIds.length <= matchInputsMax, `at most ${matchInputsMax} requests per lookup`);
  if (params.requestIds.length === 0) return [];
  return db
    .select({
      requestId: usageRecords.requestId,
      userId: usageRecords.userId,
      createdAt: usageRecords.createdAt,
      sessionId: usageRecords.sessionId,
      system: usageRecords.system,
      completion: requestPayloads.completion,
      githubLogin: githubAccounts.login,
      // As findSettlementGate reads it: the version pinned at admission, else the newest.
      plugins: sql<unknown>`(select c.plugins from scoring_configs c where c.team_id = usage_records.team_id
            and c.version = coalesce((select g.scoring_config_version from gateway_requests g where g.request_id = usage_records.request_id),
                                     (select max(n.version) from scoring_configs n where n.team_id = usage_records.team_id)))`,
    })
    .from(usageRecords)
    .leftJoin(requestPayloads, eq(requestPayloads.requestId, usageRecords.requestId))
    .leftJoin(
      githubAccounts,
      and(eq(githubAccounts.userId, usageRecords.userId), eq(githubAccounts.orgId, usageRecords.orgId)),
    )
    .where(and(eq(usageRecords.orgId, params.orgId), inArray(usageRecords.requestId, [...params.requestIds])));
}

/**
 * Of `keys`, those the org's waiting requests share widely: indexed under at least `requestsMin`
 * distinct requests of `pluginId` whose window is open. A fingerprint in that many completions is
 * boilerplate every model writes, not proof that one request became the merged code.
 */
export async function widelySharedEvidenceKeys(
  db: Db,
  params: { orgId: string; pluginId: string; keys: readonly string[]; requestsMin: number; now: Date },
): Promise<string[]> {
  invariant(params.keys.length <= evidenceLookupKeysMax, `at most ${evidenceLookupKeysMax} keys per lookup`);
  invariant(Number.isInteger(params.requestsMin) && params.requestsMin >= 2, 'requestsMin must be a whole number >= 2');
  if (params.keys.length === 0) return [];
  const rows = await db
    .select({ key: evidenceIndex.key })
    .from(evidenceIndex)
    .where(
      and(
        eq(evidenceIndex.orgId, params.orgId),
        eq(evidenceIndex.pluginId, params.pluginId),
        inArray(evidenceIndex.key, [...params.keys]),
        gt(evidenceIndex.expiresAt, params.now),
      ),
    )
    .groupBy(evidenceIndex.key)
    .having(gte(countDistinct(evidenceIndex.requestId), params.requestsMin));
  return rows.map((row) => row.key);
}
