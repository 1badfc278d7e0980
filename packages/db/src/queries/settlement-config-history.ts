import { desc, eq } from 'drizzle-orm';
import type { Db } from '../client';
import { scoringConfigs, settlementPolicies } from '../schema/index';
import type { ScoringConfig, ScoringPlugin } from './settlement-config';

/** A stored version of a team's settlement policy, its body as stored (the caller parses it). */
export interface SettlementPolicyVersion {
  version: number;
  body: unknown;
  createdBy: string;
  createdAt: Date;
}

/** The team's scoring configuration versions, newest first, at most `limit`. */
export async function scoringConfigHistory(
  db: Db,
  params: { teamId: string; limit: number },
): Promise<ScoringConfig[]> {
  const rows = await db
    .select({
      teamId: scoringConfigs.teamId,
      version: scoringConfigs.version,
      plugins: scoringConfigs.plugins,
      createdBy: scoringConfigs.createdBy,
      createdAt: scoringConfigs.createdAt,
    })
    .from(scoringConfigs)
    .where(eq(scoringConfigs.teamId, params.teamId))
    .orderBy(desc(scoringConfigs.version))
    .limit(params.limit);
  return rows.map((row) => ({ ...row, plugins: row.plugins as ScoringPlugin[] }));
}

/** The team's settlement policy versions, newest first, at most `limit`. */
export async function settlementPolicyHistory(
  db: Db,
  params: { teamId: string; limit: number },
): Promise<SettlementPolicyVersion[]> {
  return db
    .select({
      version: settlementPolicies.version,
      body: settlementPolicies.body,
      createdBy: settlementPolicies.createdBy,
      createdAt: settlementPolicies.createdAt,
    })
    .from(settlementPolicies)
    .where(eq(settlementPolicies.teamId, params.teamId))
    .orderBy(desc(settlementPolicies.version))
    .limit(params.limit);
}
