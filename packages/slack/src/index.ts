/** The Slack bot: `startSlackBot` and its configuration; handlers register through `extensions`. */
export { startSlackBot, slackEventsPath, type RunningSlackBot, type SlackBotDeps } from './app';
export { loadSlackConfig, type SlackConfig, type SlackTransport } from './config';
export { type ApiCaller, type SlackContext, type SlackExtension } from './context';
export { createIdentityResolver, type IdentityResolver, type SlackIdentity } from './identity';
export { publishHome } from './home/index';
export { settlementMuteToggleAction } from './home/home-blocks';
export { carbonRaiseRequestAction } from './commands/carbon-blocks';
export { refusalText } from './commands/linked-user';
export * as format from './format';
export {
  deliveryOptionsFromEnv,
  slackDeliveryExtension,
  startDeliveryLoop,
  type DeliveryLoop,
  type DeliveryLoopOptions,
} from './delivery/index';
