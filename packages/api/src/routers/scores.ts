import { ForbiddenError, NotFoundError } from '@tokenwise/core';
import { findSettlementDetail, scoresPerUser } from '@tokenwise/db';
import { z } from 'zod';
import { loadApiUser } from '../context';
import { isoTime, pageSize } from '../inputs';
import { requestIdLengthMax, teamMembersMax } from '../limits';
import { assertManagesTeam, hasRole, teamInOrg, usageVisibleTo } from '../scope';
import { authedProcedure, roleProcedure, router } from '../trpc';
import { findUsage } from '../usage-queries';

const period = { from: isoTime.optional(), to: isoTime.optional() };
const dateOf = (iso: string | undefined) => (iso === undefined ? undefined : new Date(iso));

export const scoresRouter = router({
  /** A request's score with each plugin's result; for whoever may see the request. */
  byRequest: authedProcedure
    .input(z.object({ requestId: z.string().min(1).max(requestIdLengthMax) }))
    .query(async ({ ctx, input }) => {
      const usage = await findUsage(ctx.db, { visible: usageVisibleTo(ctx.user), requestId: input.requestId });
      if (usage === undefined) throw new NotFoundError(`No request ${input.requestId} that you may see.`);
      const settlement = await findSettlementDetail(ctx.db, { requestId: input.requestId });
      return {
        requestId: usage.requestId,
        userId: usage.userId,
        model: usage.model,
        cost: usage.cost,
        currency: usage.currency,
        settlement: settlement === undefined ? null : { ...settlement, settledAt: settlement.settledAt.toISOString() },
      };
    }),

  /** One user's totals: themselves, the lead of their team, or an admin of the org. */
  byUser: authedProcedure.input(z.object({ userId: z.uuid(), ...period })).query(async ({ ctx, input }) => {
    const target = await loadApiUser(ctx.db, { userId: input.userId, orgId: ctx.user.orgId });
    if (target === undefined) throw new NotFoundError(`No user ${input.userId} in your org.`);
    const leadsTarget = hasRole(ctx.user, 'lead') && ctx.user.teamId !== null && target.teamId === ctx.user.teamId;
    if (target.userId !== ctx.user.userId && !leadsTarget && !hasRole(ctx.user, 'admin')) {
      throw new ForbiddenError('You may only see your own scores; a lead sees the team, an admin the org.');
    }
    const [row] = await scoresPerUser(ctx.db, {
      scope: { orgId: ctx.user.orgId, userId: target.userId },
      from: dateOf(input.from),
      to: dateOf(input.to),
      limit: 1,
      scoredOnly: false,
    });
    return (
      row ?? {
        userId: target.userId,
        requests: 0,
        scoredRequests: 0,
        tokens: 0,
        costMinorUnits: 0n,
        refundMinorUnits: 0n,
        co2eMicrograms: 0n,
        meanScore: null,
        valuePer1kTokens: null,
      }
    );
  }),

  /** Each member's totals in one team: the lead of that team or an admin. */
  byTeam: roleProcedure('lead', 'admin')
    .input(z.object({ teamId: z.uuid(), ...period }))
    .query(async ({ ctx, input }) => {
      const team = await teamInOrg(ctx.db, { teamId: input.teamId, orgId: ctx.user.orgId });
      assertManagesTeam(ctx.user, team.id);
      const users = await scoresPerUser(ctx.db, {
        scope: { orgId: ctx.user.orgId, teamId: team.id },
        from: dateOf(input.from),
        to: dateOf(input.to),
        limit: teamMembersMax,
        scoredOnly: false,
      });
      return { teamId: team.id, slug: team.slug, users };
    }),

  /** Users ranked by value per 1k tokens spent (never by consumption): a lead sees their team, an admin the org or one team. */
  leaderboard: roleProcedure('lead', 'admin')
    .input(z.object({ teamId: z.uuid().optional(), limit: pageSize, ...period }))
    .query(async ({ ctx, input }) => {
      const teamId = hasRole(ctx.user, 'admin') ? input.teamId : (input.teamId ?? ctx.user.teamId ?? undefined);
      if (teamId === undefined && !hasRole(ctx.user, 'admin'))
        throw new ForbiddenError('A lead without a team has no leaderboard to see.');
      if (teamId !== undefined) assertManagesTeam(ctx.user, teamId);
      const rows = await scoresPerUser(ctx.db, {
        scope: { orgId: ctx.user.orgId, teamId },
        from: dateOf(input.from),
        to: dateOf(input.to),
        limit: input.limit,
        scoredOnly: true,
      });
      return rows.map((row, index) => ({ rank: index + 1, ...row }));
    }),
});
