/** The local Slack for tests: `@tokenwise/slack/testing`. */
export {
  startLocalSlack,
  type Delivery,
  type LocalSlack,
  type LocalSlackOptions,
  type SlackSender,
} from './slack-server';
export {
  appHomeOpenedEvent,
  verificationToken,
  type ActionInput,
  type CommandInput,
  type ViewSubmissionInput,
} from './payloads';
export { formBody, interactionBody, slackSignature, type HttpDelivery, type RawDelivery } from './signing';
export { type EnvelopeType } from './socket-mode';
export {
  localAppId,
  localBotId,
  localBotUserId,
  localTeamId,
  type ApiCall,
  type ApiFault,
  type PostedMessage,
  type ResponsePost,
  type SlackMember,
  type ViewRecord,
} from './state';
export { imChannelOf } from './web-api';
export * as blockLimits from './block-limits';
