import type { App } from '@slack/bolt';
import { findOrgTimeZone } from '@tokenwise/db';
import type { ApiCaller, SlackContext } from '../context';
import { monthStart } from '../format';
import { registerCarbonCommand } from './carbon';
import { asLinkedUser } from './linked-user';
import {
  helpMessage,
  keyMessage,
  recentRequestsShown,
  scoresMessage,
  scoredRequestsExplained,
  tokensMessage,
} from './tokens-blocks';

/** How many recent requests `/tokens scores` looks through for settled ones. */
const scoresLookbackRequests = 20;

async function tokensOverview(ctx: SlackContext, caller: ApiCaller, userId: string) {
  const timeZone = (await findOrgTimeZone(ctx.db, { orgId: ctx.orgId })) ?? 'UTC';
  const [balances, month, recent] = await Promise.all([
    caller.me.balances(),
    caller.scores.byUser({ userId, from: monthStart(new Date(), timeZone).toISOString() }),
    caller.me.recentUsage({ limit: recentRequestsShown }),
  ]);
  const settled = recent.filter((usage) => usage.settledAt !== null);
  const details = await Promise.all(settled.map((usage) => caller.scores.byRequest({ requestId: usage.requestId })));
  const settlements = new Map(details.map((detail) => [detail.requestId, detail.settlement]));
  return tokensMessage({ balances, month, recent, settlements });
}

async function scoresOverview(caller: ApiCaller) {
  const recent = await caller.me.recentUsage({ limit: scoresLookbackRequests });
  const settled = recent.filter((usage) => usage.settledAt !== null).slice(0, scoredRequestsExplained);
  return scoresMessage(
    await Promise.all(settled.map((usage) => caller.scores.byRequest({ requestId: usage.requestId }))),
  );
}

async function newKey(caller: ApiCaller) {
  const name = `slack ${new Date().toISOString().slice(0, 10)}`;
  const { key, secret } = await caller.keys.create({ name, scopes: ['inference'] });
  return keyMessage(key, secret);
}

/** `/tokens [scores|key|help]` and `/carbon`, each acked at once and answered through `respond`. */
export function registerCommands(app: App, ctx: SlackContext): void {
  app.command('/tokens', async ({ ack, command, respond }) => {
    await ack();
    const subcommand = command.text.trim().toLowerCase().split(/\s+/)[0] ?? '';
    if (subcommand !== '' && subcommand !== 'scores' && subcommand !== 'key') {
      await respond({
        response_type: 'ephemeral',
        ...helpMessage(subcommand === 'help' ? undefined : command.text.trim()),
      });
      return;
    }
    await asLinkedUser(ctx, command.user_id, respond, (caller, user) =>
      subcommand === 'scores'
        ? scoresOverview(caller)
        : subcommand === 'key'
          ? newKey(caller)
          : tokensOverview(ctx, caller, user.userId),
    );
  });
  registerCarbonCommand(app, ctx);
}
