import { ConfigError } from '@tokenwise/core';
import { planSlackBot, slackOffLine, startSlackService } from '../starters/slack-starter';
import { slackExtensions } from '../starters/slack-extensions';
import { runService } from './service-command';

/**
 * `tokenwise slack`: the Slack bot as its own service (DATABASE_URL, SLACK_BOT_TOKEN and
 * SLACK_SIGNING_SECRET or SLACK_APP_TOKEN, TOKENWISE_SLACK_ORG). Without the Slack variables it
 * says how to set them and exits 1: a supervisor must not take a bot that never ran for success.
 */
export function runSlackCommand(): Promise<number> {
  return runService({
    name: 'slack',
    async start({ config, services, stack, log }) {
      const planned = await planSlackBot(process.env, config.gatewayPort);
      if (planned === null) throw new ConfigError(slackOffLine);
      await startSlackService(stack, { services, planned, extensions: slackExtensions(), log });
      return {};
    },
  });
}
