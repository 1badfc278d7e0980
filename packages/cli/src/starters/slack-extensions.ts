import { deliveryOptionsFromEnv, slackDeliveryExtension, type SlackExtension } from '@tokenwise/slack';

/**
 * What the bot runs beyond its commands and App Home: the delivery of notification rows as DMs
 * (TOKENWISE_SLACK_DIGEST_SECONDS paces settlement digests) and the raise Approve / Deny buttons.
 */
export function slackExtensions(env: NodeJS.ProcessEnv = process.env): SlackExtension[] {
  return [slackDeliveryExtension(deliveryOptionsFromEnv(env))];
}
