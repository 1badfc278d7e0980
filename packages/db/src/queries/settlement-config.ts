import {
  NotFoundError,
  parseWith,
  settlementBoundsSchema,
  settlementPolicySchema,
  stringifyJson,
  type SettlementBounds,
  type SettlementPolicy,
} from '@tokenwise/core';
import { desc, eq, sql } from 'drizzle-orm';
import { z } from 'zod';
import type { Db } from '../client';
import { pgErrorOf } from '../pg-error';
import { orgs, scoringConfigs, settlementBounds, settlementPolicies, teams } from '../schema/index';
import { writeAudit } from './audit';

/** Plugins one team may run per request: each is an activity, so this bounds a settlement's fan-out. */
export const scoringPluginsMax = 16;
export const scoringWeightMax = 100;
/** The whole scoring configuration as stored JSON; a config this large is a mistake, not a rubric. */
export const scoringConfigBytesMax = 256 * 1024;

// The plugin-sdk's id rule, repeated here because db must not depend on the plugin platform.
const pluginIdSchema = z
  .string()
  .regex(
    /^[a-z][a-z0-9-]{1,63}$/,
    'must be 2..64 lowercase letters, digits or dashes, starting with a letter (e.g. "llm-judge")',
  );

/**
 * The shape of a team's scoring configuration. Each plugin's own config is checked by the caller
 * with that plugin's schema (parsePluginConfig), since only the caller has the plugins loaded.
 */
export const scoringPluginsSchema = z
  .array(
    z.strictObject({
      pluginId: pluginIdSchema,
      weight: z.number().gt(0, 'must be greater than 0').max(scoringWeightMax, `must be at most ${scoringWeightMax}`),
      config: z
        .unknown()
        .optional()
        .transform((config) => config ?? {}),
    }),
  )
  .max(scoringPluginsMax, `at most ${scoringPluginsMax} plugins`)
  .superRefine((plugins, ctx) => {
    const seen = new Set<string>();
    plugins.forEach((plugin, index) => {
      if (seen.has(plugin.pluginId))
        ctx.addIssue({ code: 'custom', path: [index, 'pluginId'], message: `"${plugin.pluginId}" is listed twice` });
      seen.add(plugin.pluginId);
    });
    const bytes = Buffer.byteLength(stringifyJson(plugins));
    if (bytes > scoringConfigBytesMax)
      ctx.addIssue({
        code: 'custom',
        path: [],
        message: `is ${bytes} bytes as JSON; at most ${scoringConfigBytesMax}`,
      });
  });
export type ScoringPlugin = { pluginId: string; weight: number; config: unknown };

export interface ScoringConfig {
  teamId: string;
  version: number;
  plugins: ScoringPlugin[];
  createdBy: string;
  createdAt: Date;
}

export interface StoredSettlementPolicy {
  teamId: string;
  version: number;
  policy: SettlementPolicy;
  createdBy: string;
  createdAt: Date;
  /** Each way the policy goes beyond the org's current bounds (settlements cap it there). */
  warnings: string[];
}

export interface StoredSettlementBounds {
  orgId: string;
  bounds: SettlementBounds;
  /** False when the org never set bounds: these are the defaults that settlements apply. */
  explicit: boolean;
  updatedBy: string | null;
  updatedAt: Date | null;
}

async function teamOrgId(db: Db, teamId: string): Promise<string> {
  const [team] = await db.select({ orgId: teams.orgId }).from(teams).where(eq(teams.id, teamId)).limit(1);
  if (team === undefined) throw new NotFoundError(`No team ${teamId}.`);
  return team.orgId;
}

/**
 * Runs `publish` (a transaction that inserts version max+1) and runs it once more when a
 * concurrent publish took the same version first: the primary key (team_id, version) refuses it.
 */
async function withVersionRetry<T>(publish: () => Promise<T>): Promise<T> {
  try {
    return await publish();
  } catch (error) {
    if (pgErrorOf(error)?.code !== '23505') throw error;
    return publish();
  }
}

/** Stores a team's scoring configuration as its next version, with an audit row, in one transaction. */
export async function publishScoringConfig(
  db: Db,
  params: { teamId: string; plugins: unknown; actor: string },
): Promise<ScoringConfig> {
  const plugins = parseWith(scoringPluginsSchema, params.plugins, 'scoring configuration') as ScoringPlugin[];
  const orgId = await teamOrgId(db, params.teamId);
  return withVersionRetry(() =>
    db.transaction(async (tx) => {
      const before = await currentScoringConfig(tx, { teamId: params.teamId });
      const nextVersion = sql<number>`(select coalesce(max(${scoringConfigs.version}), 0) + 1 from ${scoringConfigs} where ${scoringConfigs.teamId} = ${params.teamId})`;
      const [row] = await tx
        .insert(scoringConfigs)
        .values({ teamId: params.teamId, version: nextVersion, plugins, createdBy: params.actor })
        .returning(scoringConfigColumns);
      if (row === undefined) throw new Error('insert into scoring_configs returned no row');
      const stored = toScoringConfig(row);
      const summary = (config: ScoringConfig | undefined) =>
        config === undefined ? null : { version: config.version, plugins: config.plugins };
      await writeAudit(tx, {
        orgId,
        actor: params.actor,
        action: 'scoring_config.publish',
        entityType: 'scoring_config',
        entityId: params.teamId,
        before: summary(before),
        after: summary(stored),
      });
      return stored;
    }),
  );
}

const scoringConfigColumns = {
  teamId: scoringConfigs.teamId,
  version: scoringConfigs.version,
  plugins: scoringConfigs.plugins,
  createdBy: scoringConfigs.createdBy,
  createdAt: scoringConfigs.createdAt,
};

function toScoringConfig(row: {
  teamId: string;
  version: number;
  plugins: unknown;
  createdBy: string;
  createdAt: Date;
}): ScoringConfig {
  return { ...row, plugins: row.plugins as ScoringPlugin[] };
}

/** The team's newest scoring configuration, or undefined when none was ever published. */
export async function currentScoringConfig(db: Db, params: { teamId: string }): Promise<ScoringConfig | undefined> {
  const [row] = await db
    .select(scoringConfigColumns)
    .from(scoringConfigs)
    .where(eq(scoringConfigs.teamId, params.teamId))
    .orderBy(desc(scoringConfigs.version))
    .limit(1);
  return row === undefined ? undefined : toScoringConfig(row);
}

/** Each bound the policy exceeds, named; pure, so callers can show it again at any time. */
export function policyBoundsWarnings(policy: SettlementPolicy, bounds: SettlementBounds): string[] {
  const warnings: string[] = [];
  policy.refunds.forEach((tier, index) => {
    if (tier.shareBps > bounds.maxRefundShareBps) {
      warnings.push(
        `refunds.${index}.shareBps ${tier.shareBps} exceeds the org's maxRefundShareBps ${bounds.maxRefundShareBps}: settlements refund at most ${bounds.maxRefundShareBps} bps`,
      );
    }
  });
  if (policy.reward !== undefined && policy.reward.amount > bounds.maxRewardPerRequest) {
    warnings.push(
      `reward.amount ${policy.reward.amount} exceeds the org's maxRewardPerRequest ${bounds.maxRewardPerRequest}: settlements reward at most ${bounds.maxRewardPerRequest} minor units`,
    );
  }
  return warnings;
}

/**
 * Stores a team's settlement policy (validated, defaults filled in) as its next version, with an
 * audit row. A policy beyond the org's bounds is stored, since settlements cap it, and each
 * exceeded bound comes back in `warnings`.
 */
export async function publishSettlementPolicy(
  db: Db,
  params: { teamId: string; body: unknown; actor: string },
): Promise<StoredSettlementPolicy> {
  const policy = parseWith(settlementPolicySchema, params.body, 'settlement policy');
  const orgId = await teamOrgId(db, params.teamId);
  return withVersionRetry(() =>
    db.transaction(async (tx) => {
      const before = await newestPolicyRow(tx, params.teamId);
      const nextVersion = sql<number>`(select coalesce(max(${settlementPolicies.version}), 0) + 1 from ${settlementPolicies} where ${settlementPolicies.teamId} = ${params.teamId})`;
      const [row] = await tx
        .insert(settlementPolicies)
        .values({ teamId: params.teamId, version: nextVersion, body: policy, createdBy: params.actor })
        .returning(policyColumns);
      if (row === undefined) throw new Error('insert into settlement_policies returned no row');
      const bounds = await getSettlementBounds(tx, { orgId });
      const summary = (stored: { version: number; body: unknown } | undefined) =>
        stored === undefined ? null : { version: stored.version, policy: stored.body };
      await writeAudit(tx, {
        orgId,
        actor: params.actor,
        action: 'settlement_policy.publish',
        entityType: 'settlement_policy',
        entityId: params.teamId,
        before: summary(before),
        after: summary(row),
      });
      return { ...toPolicy(row), warnings: policyBoundsWarnings(policy, bounds.bounds) };
    }),
  );
}

const policyColumns = {
  teamId: settlementPolicies.teamId,
  version: settlementPolicies.version,
  body: settlementPolicies.body,
  createdBy: settlementPolicies.createdBy,
  createdAt: settlementPolicies.createdAt,
};
type PolicyRow = { teamId: string; version: number; body: unknown; createdBy: string; createdAt: Date };

async function newestPolicyRow(db: Db, teamId: string): Promise<PolicyRow | undefined> {
  const [row] = await db
    .select(policyColumns)
    .from(settlementPolicies)
    .where(eq(settlementPolicies.teamId, teamId))
    .orderBy(desc(settlementPolicies.version))
    .limit(1);
  return row;
}

function toPolicy(row: PolicyRow): Omit<StoredSettlementPolicy, 'warnings'> {
  const { body, ...rest } = row;
  return { ...rest, policy: settlementPolicySchema.parse(body) };
}

/** The team's newest settlement policy with its warnings against the org's current bounds; undefined when none. */
export async function currentSettlementPolicy(
  db: Db,
  params: { teamId: string },
): Promise<StoredSettlementPolicy | undefined> {
  const row = await newestPolicyRow(db, params.teamId);
  if (row === undefined) return undefined;
  const policy = toPolicy(row);
  const bounds = await getSettlementBounds(db, { orgId: await teamOrgId(db, params.teamId) });
  return { ...policy, warnings: policyBoundsWarnings(policy.policy, bounds.bounds) };
}

const boundsColumns = {
  orgId: settlementBounds.orgId,
  body: settlementBounds.body,
  updatedBy: settlementBounds.updatedBy,
  updatedAt: settlementBounds.updatedAt,
};

/** The org's settlement bounds, or the defaults settlements apply when the org never set any. */
export async function getSettlementBounds(db: Db, params: { orgId: string }): Promise<StoredSettlementBounds> {
  const [row] = await db
    .select(boundsColumns)
    .from(settlementBounds)
    .where(eq(settlementBounds.orgId, params.orgId))
    .limit(1);
  if (row === undefined)
    return {
      orgId: params.orgId,
      bounds: settlementBoundsSchema.parse({}),
      explicit: false,
      updatedBy: null,
      updatedAt: null,
    };
  return {
    orgId: row.orgId,
    bounds: settlementBoundsSchema.parse(row.body),
    explicit: true,
    updatedBy: row.updatedBy,
    updatedAt: row.updatedAt,
  };
}

/** Sets the org's settlement bounds (validated, defaults filled in), with an audit row of before and after. */
export async function setSettlementBounds(
  db: Db,
  params: { orgId: string; body: unknown; actor: string },
): Promise<StoredSettlementBounds> {
  const bounds = parseWith(settlementBoundsSchema, params.body, 'settlement bounds');
  const [org] = await db.select({ id: orgs.id }).from(orgs).where(eq(orgs.id, params.orgId)).limit(1);
  if (org === undefined) throw new NotFoundError(`No org ${params.orgId}.`);
  return db.transaction(async (tx) => {
    // Locks the row (when there is one) so the audit's `before` is the value this write replaces.
    const [previous] = await tx
      .select({ body: settlementBounds.body })
      .from(settlementBounds)
      .where(eq(settlementBounds.orgId, params.orgId))
      .for('update');
    const [row] = await tx
      .insert(settlementBounds)
      .values({ orgId: params.orgId, body: bounds, updatedBy: params.actor })
      .onConflictDoUpdate({
        target: settlementBounds.orgId,
        set: { body: bounds, updatedBy: params.actor, updatedAt: sql`now()` },
      })
      .returning(boundsColumns);
    if (row === undefined) throw new Error('upsert into settlement_bounds returned no row');
    await writeAudit(tx, {
      orgId: params.orgId,
      actor: params.actor,
      action: 'settlement_bounds.set',
      entityType: 'settlement_bounds',
      entityId: params.orgId,
      before: previous?.body ?? null,
      after: bounds,
    });
    return { orgId: row.orgId, bounds, explicit: true, updatedBy: row.updatedBy, updatedAt: row.updatedAt };
  });
}
