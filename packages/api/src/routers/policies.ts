import { ForbiddenError, NotFoundError, settlementPolicySchema } from '@tokenwise/core';
import { currentSettlementPolicy, publishSettlementPolicy, settlementPolicyHistory } from '@tokenwise/db';
import { z } from 'zod';
import type { ApiUser } from '../context';
import { document, pageSize } from '../inputs';
import { assertManagesTeam, hasRole, teamInOrg } from '../scope';
import { actorOf, authedProcedure, roleProcedure, router } from '../trpc';

/** A team's policy is readable by its members, and by admins and ESG officers across the org. */
function assertMayReadPolicyOf(user: ApiUser, teamId: string): void {
  if (user.teamId === teamId || hasRole(user, 'admin') || hasRole(user, 'esg')) return;
  throw new ForbiddenError(`Only members of team ${teamId}, admins and ESG officers may read its settlement policy.`);
}

export const policiesRouter = router({
  /** The team's current settlement policy with warnings against the org's bounds. */
  current: authedProcedure.input(z.object({ teamId: z.uuid() })).query(async ({ ctx, input }) => {
    const team = await teamInOrg(ctx.db, { teamId: input.teamId, orgId: ctx.user.orgId });
    assertMayReadPolicyOf(ctx.user, team.id);
    const current = await currentSettlementPolicy(ctx.db, { teamId: team.id });
    if (current === undefined) throw new NotFoundError(`Team ${team.slug} has no settlement policy yet.`);
    return {
      teamId: current.teamId,
      version: current.version,
      policy: current.policy,
      createdBy: current.createdBy,
      createdAt: current.createdAt.toISOString(),
      warnings: current.warnings,
    };
  }),

  /** Every version of the team's policy, newest first. */
  history: authedProcedure.input(z.object({ teamId: z.uuid(), limit: pageSize })).query(async ({ ctx, input }) => {
    const team = await teamInOrg(ctx.db, { teamId: input.teamId, orgId: ctx.user.orgId });
    assertMayReadPolicyOf(ctx.user, team.id);
    const rows = await settlementPolicyHistory(ctx.db, { teamId: team.id, limit: input.limit });
    return rows.map((row) => ({
      teamId: team.id,
      version: row.version,
      policy: settlementPolicySchema.parse(row.body),
      createdBy: row.createdBy,
      createdAt: row.createdAt.toISOString(),
    }));
  }),

  /** Publishes the team's next policy version (audited): the lead of that team or an admin. */
  set: roleProcedure('lead', 'admin')
    .input(z.object({ teamId: z.uuid(), policy: document }))
    .mutation(async ({ ctx, input }) => {
      const team = await teamInOrg(ctx.db, { teamId: input.teamId, orgId: ctx.user.orgId });
      assertManagesTeam(ctx.user, team.id);
      const stored = await publishSettlementPolicy(ctx.db, {
        teamId: team.id,
        body: input.policy,
        actor: actorOf(ctx.user),
      });
      return {
        teamId: stored.teamId,
        version: stored.version,
        policy: stored.policy,
        createdBy: stored.createdBy,
        createdAt: stored.createdAt.toISOString(),
        warnings: stored.warnings,
      };
    }),
});
