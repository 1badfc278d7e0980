import { grantBoundsDefault, InvalidAmountError, type GrantBounds } from '@tokenwise/core';
import { and, eq, sql } from 'drizzle-orm';
import type { Db } from '../client';
import { grantBounds } from '../schema/index';
import { writeAudit } from './audit';

/** The org's issuance bounds in `currency`: its configured row, else the platform defaults. */
export async function getGrantBounds(
  db: Db,
  params: { orgId: string; currency: string },
): Promise<GrantBounds & { configured: boolean }> {
  const [row] = await db
    .select({ grantAmountMax: grantBounds.grantAmountMax, monthlyIssuanceMax: grantBounds.monthlyIssuanceMax })
    .from(grantBounds)
    .where(and(eq(grantBounds.orgId, params.orgId), eq(grantBounds.currency, params.currency)))
    .limit(1);
  return row === undefined ? { ...grantBoundsDefault, configured: false } : { ...row, configured: true };
}

/** Sets the org's issuance bounds in `currency` (platform operator), with an audit row of before and after. The caller checks currency. */
export async function setGrantBounds(
  db: Db,
  params: { orgId: string; currency: string; bounds: GrantBounds; actor: string },
): Promise<GrantBounds> {
  const { grantAmountMax, monthlyIssuanceMax } = params.bounds;
  if (grantAmountMax <= 0n)
    throw new InvalidAmountError(`grantAmountMax must be greater than 0, got ${grantAmountMax}.`, {
      field: 'grantAmountMax',
    });
  if (monthlyIssuanceMax <= 0n)
    throw new InvalidAmountError(`monthlyIssuanceMax must be greater than 0, got ${monthlyIssuanceMax}.`, {
      field: 'monthlyIssuanceMax',
    });
  return db.transaction(async (tx) => {
    const before = await getGrantBounds(tx, params);
    await tx
      .insert(grantBounds)
      .values({
        orgId: params.orgId,
        currency: params.currency,
        grantAmountMax,
        monthlyIssuanceMax,
        updatedBy: params.actor,
      })
      .onConflictDoUpdate({
        target: [grantBounds.orgId, grantBounds.currency],
        set: { grantAmountMax, monthlyIssuanceMax, updatedBy: params.actor, updatedAt: sql`now()` },
      });
    await writeAudit(tx, {
      orgId: params.orgId,
      actor: params.actor,
      action: 'grant_bounds.set',
      entityType: 'grant_bounds',
      entityId: `${params.orgId}:${params.currency}`,
      before: before.configured
        ? { grantAmountMax: before.grantAmountMax, monthlyIssuanceMax: before.monthlyIssuanceMax }
        : null,
      after: { grantAmountMax, monthlyIssuanceMax },
    });
    return { grantAmountMax, monthlyIssuanceMax };
  });
}
