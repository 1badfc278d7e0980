import type { SlackExtension } from '@tokenwise/slack';

/** What the bot runs beyond its commands and App Home: notification delivery and raise approvals. */
export function slackExtensions(): SlackExtension[] {
  return [];
}
