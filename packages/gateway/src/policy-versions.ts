import type { Db } from '@tokenwise/db';
import { scoringConfigs, settlementPolicies } from '@tokenwise/db/schema';
import { desc, eq } from 'drizzle-orm';
import type { Principal } from './ports';

/** How long a team's current versions are trusted before they are read again. */
export const policyVersionCacheMs = 5_000;
const cacheEntriesMax = 10_000;

/** What a request is settled under, pinned on its admission row. */
export interface SettlementVersions {
  /** The team's settlement-policy version (null: none yet). */
  policyVersion: number | null;
  /** The team's scoring-configuration version (null: none yet). */
  scoringConfigVersion: number | null;
}

const none: SettlementVersions = { policyVersion: null, scoringConfigVersion: null };

/**
 * The versions a request is admitted under: the team's newest settlement policy and scoring
 * configuration, read together and cached briefly so admission does not read them on
 * every request. A lead's change applies to requests admitted after it, never to ones in flight.
 */
export function createSettlementVersionsLookup(db: Db, now: () => number = Date.now): (principal: Principal) => Promise<SettlementVersions> {
  const cache = new Map<string, { versions: SettlementVersions; at: number }>();
  return async (principal) => {
    if (principal.teamId === null) return none;
    const hit = cache.get(principal.teamId);
    if (hit !== undefined && now() - hit.at < policyVersionCacheMs) return hit.versions;
    const policy = db.select({ version: settlementPolicies.version }).from(settlementPolicies).where(eq(settlementPolicies.teamId, principal.teamId)).orderBy(desc(settlementPolicies.version)).limit(1);
    const scoring = db.select({ version: scoringConfigs.version }).from(scoringConfigs).where(eq(scoringConfigs.teamId, principal.teamId)).orderBy(desc(scoringConfigs.version)).limit(1);
    const [[policyRow], [scoringRow]] = await Promise.all([policy, scoring]);
    const versions = { policyVersion: policyRow?.version ?? null, scoringConfigVersion: scoringRow?.version ?? null };
    if (cache.size >= cacheEntriesMax) cache.clear();
    cache.set(principal.teamId, { versions, at: now() });
    return versions;
  };
}
