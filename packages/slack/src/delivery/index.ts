import { ConfigError } from '@tokenwise/core';
import { registerRaiseDecisions } from '../actions/raise-decisions';
import type { SlackExtension } from '../context';
import { createDeliveryClient } from './client';
import { deliveryDefaults, startDeliveryLoop, type DeliveryLoopOptions } from './loop';

export { startDeliveryLoop, deliveryDefaults, type DeliveryLoop, type DeliveryLoopOptions } from './loop';
export { createDeliveryClient } from './client';
export { raiseApproveActionId, raiseDenyActionId } from './raise-blocks';

/** Longest digest interval accepted: a week. */
export const digestSecondsMax = 7 * 24 * 3600;

/**
 * The delivery settings from the environment: TOKENWISE_SLACK_DIGEST_SECONDS (at most one
 * settlement digest per user per this many seconds; default 3600; 0 sends each pass's rows at once).
 */
export function deliveryOptionsFromEnv(env: NodeJS.ProcessEnv): DeliveryLoopOptions {
  const raw = env.TOKENWISE_SLACK_DIGEST_SECONDS?.trim();
  if (raw === undefined || raw === '') return { digestIntervalMs: deliveryDefaults.digestIntervalMs };
  const seconds = Number(raw);
  if (!/^\d{1,7}$/.test(raw) || seconds > digestSecondsMax)
    throw new ConfigError(
      `TOKENWISE_SLACK_DIGEST_SECONDS: must be whole seconds 0..${digestSecondsMax} (default 3600), got "${raw}".`,
    );
  return { digestIntervalMs: seconds * 1000 };
}

/**
 * The bot's notifications and approvals: registers the Approve / Deny handlers and starts the
 * delivery loop of the bound org; the returned stop ends the loop when the bot closes.
 */
export function slackDeliveryExtension(options: DeliveryLoopOptions = {}): SlackExtension {
  return (app, ctx) => {
    const client = createDeliveryClient(ctx.config.botToken, ctx.clientOptions);
    const copies = { db: ctx.db, client, orgId: ctx.orgId, log: ctx.log };
    registerRaiseDecisions(app, ctx, copies);
    const loop = startDeliveryLoop(copies, options);
    return () => loop.stop();
  };
}
