import type { App, BlockButtonAction } from '@slack/bolt';
import type { ApiUser } from '@tokenwise/api';
import { findOrgTimeZone, findUserNames, isSettlementMuted, setSettlementMuted } from '@tokenwise/db';
import type { SlackContext } from '../context';
import { monthStart } from '../format';
import {
  homeLeadersShown,
  homeSettledShown,
  homeView,
  settlementMuteToggleAction,
  unknownHomeView,
} from './home-blocks';

/** How many recent requests the Home looks through for settled ones. */
const homeLookbackRequests = 30;

async function leaderboardOf(ctx: SlackContext, caller: Awaited<ReturnType<SlackContext['callerFor']>>, user: ApiUser) {
  if (!user.roles.includes('lead') || user.teamId === null) return null;
  const timeZone = (await findOrgTimeZone(ctx.db, { orgId: ctx.orgId })) ?? 'UTC';
  const rows = await caller.scores.leaderboard({
    teamId: user.teamId,
    limit: homeLeadersShown,
    from: monthStart(new Date(), timeZone).toISOString(),
  });
  const ids = rows.map((row) => row.userId).filter((id): id is string => id !== null);
  const names = new Map(
    (await findUserNames(ctx.db, { orgId: ctx.orgId, userIds: ids })).map((row) => [row.id, row.displayName]),
  );
  return { rows, names };
}

/** Builds and publishes one member's Home from the API, as that member. */
export async function publishHome(ctx: SlackContext, slackUserId: string): Promise<void> {
  const identity = await ctx.identity.resolve(slackUserId);
  if (identity.kind === 'unknown') {
    await ctx.client.views.publish({ user_id: slackUserId, view: unknownHomeView(identity.message) });
    return;
  }
  const user = identity.user;
  const caller = await ctx.callerFor(user);
  const [balances, carbon, recent, leaderboard, settlementMuted] = await Promise.all([
    caller.me.balances(),
    caller.carbon.status(),
    caller.me.recentUsage({ limit: homeLookbackRequests }),
    leaderboardOf(ctx, caller, user),
    isSettlementMuted(ctx.db, { orgId: ctx.orgId, userId: user.userId }),
  ]);
  const settled = recent.filter((usage) => usage.settledAt !== null).slice(0, homeSettledShown);
  await ctx.client.views.publish({
    user_id: slackUserId,
    view: homeView({ displayName: identity.displayName, balances, carbon, settled, leaderboard, settlementMuted }),
  });
}

/** `app_home_opened` publishes the Home; the mute toggle flips the preference and republishes. */
export function registerHome(app: App, ctx: SlackContext): void {
  app.event('app_home_opened', async ({ event }) => {
    if (event.tab !== 'home') return;
    await publishHome(ctx, event.user);
  });

  app.action<BlockButtonAction>(settlementMuteToggleAction, async ({ ack, body, action }) => {
    await ack();
    const identity = await ctx.identity.resolve(body.user.id);
    if (identity.kind === 'linked')
      await setSettlementMuted(ctx.db, {
        orgId: ctx.orgId,
        userId: identity.user.userId,
        muted: action.value === 'mute',
        actor: `user:${identity.user.userId}`,
      });
    await publishHome(ctx, body.user.id);
  });
}
