import type { Db } from '@tokenwise/db';
import { settlementPolicies } from '@tokenwise/db/schema';
import { desc, eq } from 'drizzle-orm';
import type { Principal } from './ports';

/** How long a team's current policy version is trusted before it is read again. */
export const policyVersionCacheMs = 5_000;
const cacheEntriesMax = 10_000;

/**
 * The settlement-policy version a request is admitted under (pinned on its admission row): the
 * team's newest, cached briefly so admission does not read it on every request.
 */
export function createPolicyVersionLookup(db: Db, now: () => number = Date.now): (principal: Principal) => Promise<number | null> {
  const cache = new Map<string, { version: number | null; at: number }>();
  return async (principal) => {
    if (principal.teamId === null) return null;
    const hit = cache.get(principal.teamId);
    if (hit !== undefined && now() - hit.at < policyVersionCacheMs) return hit.version;
    const [row] = await db.select({ version: settlementPolicies.version }).from(settlementPolicies).where(eq(settlementPolicies.teamId, principal.teamId)).orderBy(desc(settlementPolicies.version)).limit(1);
    if (cache.size >= cacheEntriesMax) cache.clear();
    cache.set(principal.teamId, { version: row?.version ?? null, at: now() });
    return row?.version ?? null;
  };
}
