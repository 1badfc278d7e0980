/**
 * The bodies Slack sends to an app, shaped as Slack's reference documents them (slash command
 * form fields, `block_actions` and `view_submission` interaction payloads, the Events API's
 * `event_callback` envelope). Pure builders: the sender signs and delivers them.
 */
import { issueTrigger, localAppId, localTeamDomain, localTeamId, nextId, type SlackState } from './state';
import { imChannelOf } from './web-api';

/** The legacy verification token Slack still includes; Bolt ignores it in favour of signatures. */
export const verificationToken = 'tokenwise-verification-token';

export interface CommandInput {
  userId: string;
  command: string;
  text?: string;
  channelId?: string;
}

/** A slash command's fields (sent form-encoded over HTTP, as JSON inside a Socket Mode envelope). */
export function slashCommandPayload(
  state: SlackState,
  input: CommandInput,
  responseUrl: string,
): Record<string, string> {
  const member = state.members.get(input.userId);
  return {
    token: verificationToken,
    team_id: localTeamId,
    team_domain: localTeamDomain,
    channel_id: input.channelId ?? 'C0GENERAL',
    channel_name: input.channelId === undefined ? 'general' : 'privategroup',
    user_id: input.userId,
    user_name: member?.name ?? input.userId.toLowerCase(),
    command: input.command,
    text: input.text ?? '',
    api_app_id: localAppId,
    is_enterprise_install: 'false',
    response_url: responseUrl,
    trigger_id: issueTrigger(state, input.userId),
  };
}

function userOf(state: SlackState, userId: string) {
  const member = state.members.get(userId);
  const name = member?.name ?? userId.toLowerCase();
  return { id: userId, username: name, name, team_id: localTeamId };
}

export interface ActionInput {
  userId: string;
  actionId: string;
  value?: string;
  blockId?: string;
  /** The message the button sits on: a bot message in a channel (e.g. a DM), or an ephemeral one. */
  message?: { channel: string; ts: string; text?: string; blocks?: unknown[]; ephemeral?: boolean };
  /** Set when the button is on the App Home tab: the published view's id. */
  homeViewId?: string;
}

/** A `block_actions` interaction: a click on a button. */
export function blockActionsPayload(
  state: SlackState,
  input: ActionInput,
  responseUrl: string | undefined,
): Record<string, unknown> {
  const blockId = input.blockId ?? nextId(state, 'b');
  const action = {
    type: 'button',
    action_id: input.actionId,
    block_id: blockId,
    text: { type: 'plain_text', text: input.actionId, emoji: true },
    ...(input.value === undefined ? {} : { value: input.value }),
    action_ts: `${(Date.now() / 1000).toFixed(6)}`,
  };
  const where =
    input.homeViewId !== undefined
      ? {
          container: { type: 'view', view_id: input.homeViewId },
          view: { id: input.homeViewId, type: 'home', team_id: localTeamId, app_id: localAppId, blocks: [] },
        }
      : input.message !== undefined
        ? {
            container: {
              type: 'message',
              message_ts: input.message.ts,
              channel_id: input.message.channel,
              is_ephemeral: input.message.ephemeral ?? false,
            },
            channel: { id: input.message.channel, name: input.message.channel.startsWith('D') ? 'directmessage' : 'x' },
            ...(input.message.ephemeral === true
              ? {}
              : {
                  message: {
                    type: 'message',
                    ts: input.message.ts,
                    text: input.message.text ?? '',
                    blocks: input.message.blocks ?? [],
                  },
                }),
          }
        : { container: { type: 'message', channel_id: imChannelOf(input.userId), is_ephemeral: true } };
  return {
    type: 'block_actions',
    user: userOf(state, input.userId),
    api_app_id: localAppId,
    token: verificationToken,
    trigger_id: issueTrigger(state, input.userId),
    team: { id: localTeamId, domain: localTeamDomain },
    enterprise: null,
    is_enterprise_install: false,
    ...where,
    ...(responseUrl === undefined ? {} : { response_url: responseUrl }),
    actions: [action],
  };
}

export interface ViewSubmissionInput {
  userId: string;
  callbackId: string;
  /** block_id -> action_id -> the element's state, e.g. `{ type: 'plain_text_input', value: '12' }`. */
  values: Record<string, Record<string, Record<string, unknown>>>;
  privateMetadata?: string;
  viewId?: string;
}

/** A `view_submission` interaction: the user pressed the modal's submit button. */
export function viewSubmissionPayload(state: SlackState, input: ViewSubmissionInput): Record<string, unknown> {
  const viewId = input.viewId ?? nextId(state, 'V');
  return {
    type: 'view_submission',
    team: { id: localTeamId, domain: localTeamDomain },
    user: userOf(state, input.userId),
    api_app_id: localAppId,
    token: verificationToken,
    trigger_id: issueTrigger(state, input.userId),
    view: {
      id: viewId,
      team_id: localTeamId,
      type: 'modal',
      callback_id: input.callbackId,
      private_metadata: input.privateMetadata ?? '',
      state: { values: input.values },
      hash: `${Date.now()}.${viewId}`,
      title: { type: 'plain_text', text: 'Tokenwise' },
      blocks: [],
      app_id: localAppId,
      bot_id: 'B0BOT',
    },
    response_urls: [],
    is_enterprise_install: false,
    enterprise: null,
  };
}

/** The Events API envelope around one event. */
export function eventCallbackPayload(state: SlackState, event: Record<string, unknown>): Record<string, unknown> {
  const nowSeconds = Math.floor(Date.now() / 1000);
  return {
    token: verificationToken,
    team_id: localTeamId,
    api_app_id: localAppId,
    event: { event_ts: `${(Date.now() / 1000).toFixed(6)}`, ...event },
    type: 'event_callback',
    event_id: nextId(state, 'Ev'),
    event_time: nowSeconds,
    authorizations: [
      { enterprise_id: null, team_id: localTeamId, user_id: 'U0BOT', is_bot: true, is_enterprise_install: false },
    ],
    is_ext_shared_channel: false,
    event_context: `4-${Buffer.from(`${localTeamId}:${nowSeconds}`).toString('base64url')}`,
  };
}

/** `app_home_opened`: the member opened the app's Home tab. */
export function appHomeOpenedEvent(userId: string, viewId?: string): Record<string, unknown> {
  return {
    type: 'app_home_opened',
    user: userId,
    channel: imChannelOf(userId),
    tab: 'home',
    ...(viewId === undefined ? {} : { view: { id: viewId, type: 'home' } }),
  };
}
