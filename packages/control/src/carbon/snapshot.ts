import type { CarbonPeriodKind, CarbonScope } from '@tokenwise/core';
import { activeUntilRaises, currentCarbonCapsOfOrg, type Db, type UntilRaise } from '@tokenwise/db';
import { orgs } from '@tokenwise/db/schema';
import { eq } from 'drizzle-orm';

export interface CarbonCapEntry {
  scope: CarbonScope;
  scopeId: string;
  version: number;
  period: CarbonPeriodKind;
  hardMicrograms: bigint;
  softPercent: number | null;
}

/** What admission needs to hold an org's carbon: its time zone, its caps, its running `until` raises. */
export interface CarbonSnapshot {
  orgId: string;
  timeZone: string;
  /** By `${scope}:${scopeId}`; only scopes with a cap. */
  caps: ReadonlyMap<string, CarbonCapEntry>;
  untilRaises: readonly UntilRaise[];
}

export const capKey = (scope: CarbonScope, scopeId: string): string => `${scope}:${scopeId}`;

export async function loadCarbonSnapshot(db: Db, orgId: string): Promise<CarbonSnapshot> {
  const [org] = await db.select({ timeZone: orgs.timeZone }).from(orgs).where(eq(orgs.id, orgId)).limit(1);
  const [caps, untilRaises] = await Promise.all([
    currentCarbonCapsOfOrg(db, { orgId }),
    activeUntilRaises(db, { orgId }),
  ]);
  const byScope = new Map<string, CarbonCapEntry>();
  for (const cap of caps) {
    if (cap.hardMicrograms === null) continue;
    byScope.set(capKey(cap.scope, cap.scopeId), {
      scope: cap.scope,
      scopeId: cap.scopeId,
      version: cap.version,
      period: cap.period,
      hardMicrograms: cap.hardMicrograms,
      softPercent: cap.softPercent,
    });
  }
  return { orgId, timeZone: org?.timeZone ?? 'UTC', caps: byScope, untilRaises };
}
