import { carbonPeriodKinds, carbonScopes, microgramsToGrams, NotFoundError, type CarbonScope } from '@tokenwise/core';
import { carbonScopeStatus, setCarbonCap } from '@tokenwise/control';
import {
  activeUntilRaises,
  currentCarbonCapsOfOrg,
  findOrgTimeZone,
  teamMemberIds,
  type CarbonCapVersion,
  type Db,
} from '@tokenwise/db';
import { z } from 'zod';
import type { ApiUser } from '../context';
import { hasRole } from '../scope';
import { actorOf, authedProcedure, roleProcedure } from '../trpc';

/** A cap as the API shows it: grams as numbers. */
function capView(cap: CarbonCapVersion) {
  return {
    scope: cap.scope,
    scopeId: cap.scopeId,
    teamId: cap.scope === 'team' ? cap.scopeId : null,
    userId: cap.scope === 'user' ? cap.scopeId : null,
    period: cap.period,
    hardGrams: cap.hardMicrograms === null ? null : microgramsToGrams(cap.hardMicrograms),
    softPercent: cap.softPercent,
    version: cap.version,
    createdBy: cap.createdBy,
    createdAt: cap.createdAt.toISOString(),
  };
}

async function orgTimeZone(db: Db, orgId: string): Promise<string> {
  const timeZone = await findOrgTimeZone(db, { orgId });
  if (timeZone === undefined) throw new NotFoundError(`Org ${orgId} does not exist.`);
  return timeZone;
}

/** ESG officers and admins see every cap of the org; a lead the org's, their team's and its members'; anyone else the org's, their team's and their own. */
async function capsVisibleTo(db: Db, user: ApiUser, caps: CarbonCapVersion[]): Promise<CarbonCapVersion[]> {
  if (hasRole(user, 'esg') || hasRole(user, 'admin')) return caps;
  const members =
    hasRole(user, 'lead') && user.teamId !== null
      ? new Set(await teamMemberIds(db, { orgId: user.orgId, teamId: user.teamId }))
      : new Set<string>();
  return caps.filter(
    (cap) =>
      cap.scope === 'org' ||
      (cap.scope === 'team' && cap.scopeId === user.teamId) ||
      (cap.scope === 'user' && (cap.scopeId === user.userId || members.has(cap.scopeId))),
  );
}

const gramsInput = z
  .number()
  .finite()
  .min(0)
  .refine((grams) => (String(grams).split('.')[1] ?? '').length <= 6 && !String(grams).includes('e-'), {
    message: 'at most 6 decimals (micrograms)',
  });

export const carbonCapProcedures = {
  /**
   * Sets a cap (a new audited version) for the org, a team or a user: ESG officers and admins.
   * `hardGrams: null` removes it (no limit). A change mid-period moves the current budget by the
   * difference, never below zero.
   */
  setCap: roleProcedure('esg', 'admin')
    .input(
      z.strictObject({
        scope: z.enum(carbonScopes),
        teamId: z.uuid().optional(),
        userId: z.uuid().optional(),
        period: z.enum(carbonPeriodKinds),
        hardGrams: gramsInput.nullable(),
        softPercent: z.number().int().min(1).max(100).nullable().optional(),
      }),
    )
    .mutation(async ({ ctx, input }) => {
      const { current } = await setCarbonCap(
        { db: ctx.db, ledger: ctx.ledger },
        {
          orgId: ctx.user.orgId,
          timeZone: await orgTimeZone(ctx.db, ctx.user.orgId),
          actor: actorOf(ctx.user),
          input,
        },
      );
      return capView(current);
    }),

  /** The caps in force (removed ones left out) that the caller may see. */
  caps: authedProcedure.query(async ({ ctx }) => {
    const caps = await currentCarbonCapsOfOrg(ctx.db, { orgId: ctx.user.orgId });
    return (await capsVisibleTo(ctx.db, ctx.user, caps)).map(capView);
  }),

  /** The caller's own, their team's (null without a team) and their org's budget this period. */
  status: authedProcedure.query(async ({ ctx }) => {
    const timeZone = await orgTimeZone(ctx.db, ctx.user.orgId);
    const deps = { db: ctx.db, ledger: ctx.ledger };
    // Read once for the three scopes; a scope with no cap never awaits it.
    const untilRaises = activeUntilRaises(ctx.db, { orgId: ctx.user.orgId });
    untilRaises.catch(() => undefined);
    const of = (scope: CarbonScope, scopeId: string) =>
      carbonScopeStatus(deps, { orgId: ctx.user.orgId, timeZone, scope, scopeId, untilRaises });
    const [user, team, org] = await Promise.all([
      of('user', ctx.user.userId),
      ctx.user.teamId === null ? Promise.resolve(null) : of('team', ctx.user.teamId),
      of('org', ctx.user.orgId),
    ]);
    return { user, team, org };
  }),
};
