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
 * configuration, read together and cached briefly so admission does not read them on every
 * request. A lead's change applies to requests admitted at most `policyVersionCacheMs` after it,
 * never to ones in flight. A team in use is reread in the background once its entry is half that
 * old, so a request waits on the database only for a team not seen within the last five seconds.
 */
export function createSettlementVersionsLookup(
  db: Db,
  now: () => number = Date.now,
): (principal: Principal) => Promise<SettlementVersions> {
  const cache = new Map<string, { versions: SettlementVersions; at: number }>();
  const reading = new Map<string, Promise<SettlementVersions>>();

  function read(teamId: string): Promise<SettlementVersions> {
    let pending = reading.get(teamId);
    if (pending !== undefined) return pending;
    const at = now();
    const policy = db
      .select({ version: settlementPolicies.version })
      .from(settlementPolicies)
      .where(eq(settlementPolicies.teamId, teamId))
      .orderBy(desc(settlementPolicies.version))
      .limit(1);
    const scoring = db
      .select({ version: scoringConfigs.version })
      .from(scoringConfigs)
      .where(eq(scoringConfigs.teamId, teamId))
      .orderBy(desc(scoringConfigs.version))
      .limit(1);
    pending = Promise.all([policy, scoring])
      .then(([[policyRow], [scoringRow]]) => {
        const versions = {
          policyVersion: policyRow?.version ?? null,
          scoringConfigVersion: scoringRow?.version ?? null,
        };
        if (cache.size >= cacheEntriesMax) cache.clear();
        cache.set(teamId, { versions, at });
        return versions;
      })
      .finally(() => reading.delete(teamId));
    reading.set(teamId, pending);
    return pending;
  }

  return async (principal) => {
    if (principal.teamId === null) return none;
    const hit = cache.get(principal.teamId);
    const age = hit === undefined ? Infinity : now() - hit.at;
    if (hit !== undefined && age >= 0 && age < policyVersionCacheMs) {
      // A failed background read leaves the entry to age out; the request after that reads itself.
      if (age >= policyVersionCacheMs / 2) read(principal.teamId).catch(() => undefined);
      return hit.versions;
    }
    return read(principal.teamId);
  };
}
