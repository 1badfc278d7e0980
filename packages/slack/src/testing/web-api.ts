import { blocksProblem, messageBlocksMax, messageTextCharsMax, viewBlocksMax, viewTitleCharsMax } from './block-limits';
import {
  localAppId,
  localBotId,
  localBotUserId,
  localTeamDomain,
  localTeamId,
  nextId,
  nextTs,
  type PostedMessage,
  type SlackMember,
  type SlackState,
} from './state';

/** A Web API refusal: HTTP 200 with `{ ok: false, error }`, as Slack answers. */
export class SlackApiError extends Error {
  constructor(
    readonly error: string,
    readonly messages: string[] = [],
  ) {
    super(error);
  }
}

type Args = Record<string, unknown>;
type Handler = (state: SlackState, args: Args, context: { socketUrl: string }) => Record<string, unknown>;

/** Slack's Web API takes objects as JSON strings inside form bodies; JSON bodies carry them as they are. */
function objectArg(args: Args, name: string): unknown {
  const value = args[name];
  if (typeof value !== 'string') return value;
  try {
    return JSON.parse(value) as unknown;
  } catch {
    throw new SlackApiError(`invalid_${name}`);
  }
}

function stringArg(args: Args, name: string, error: string): string {
  const value = args[name];
  if (typeof value !== 'string' || value.length === 0) throw new SlackApiError(error);
  return value;
}

function memberView(member: SlackMember) {
  return {
    id: member.id,
    team_id: localTeamId,
    name: member.name,
    deleted: member.deleted ?? false,
    real_name: member.realName,
    is_bot: member.isBot ?? false,
    is_app_user: false,
    tz: 'Europe/Berlin',
    profile: {
      real_name: member.realName,
      display_name: member.name,
      ...(member.email === undefined ? {} : { email: member.email }),
      team: localTeamId,
    },
  };
}

/** The channel id of the bot's direct-message conversation with a member: stable per member. */
export function imChannelOf(userId: string): string {
  return `D${userId.replace(/^[UW]/, '')}`;
}

function checkedBlocks(args: Args, max: number, error: string): unknown[] | undefined {
  const blocks = objectArg(args, 'blocks');
  const problem = blocksProblem(blocks, max);
  if (problem !== undefined) throw new SlackApiError(error, [`[ERROR] ${problem}`]);
  return blocks as unknown[] | undefined;
}

function messageContent(args: Args): { text: string | undefined; blocks: unknown[] | undefined } {
  const blocks = checkedBlocks(args, messageBlocksMax, 'invalid_blocks');
  const text = typeof args.text === 'string' ? args.text : undefined;
  if ((text === undefined || text.length === 0) && (blocks === undefined || blocks.length === 0))
    throw new SlackApiError('no_text');
  if (text !== undefined && text.length > messageTextCharsMax) throw new SlackApiError('msg_too_long');
  return { text, blocks };
}

/** A channel the bot can post to: a DM it opened, or any public-looking channel id. */
function knownChannel(state: SlackState, channel: string): string {
  if (/^[CGD][A-Z0-9]+$/.test(channel)) return channel;
  if (state.members.has(channel)) return imChannelOf(channel);
  throw new SlackApiError('channel_not_found');
}

function checkedView(args: Args): Record<string, unknown> {
  const view = objectArg(args, 'view');
  if (typeof view !== 'object' || view === null) throw new SlackApiError('invalid_arguments', ['[ERROR] missing view']);
  const record = view as Record<string, unknown>;
  const problem = blocksProblem(record.blocks, viewBlocksMax);
  if (problem !== undefined) throw new SlackApiError('invalid_arguments', [`[ERROR] ${problem}`]);
  const title = (record.title as { text?: unknown } | undefined)?.text;
  if (typeof title === 'string' && title.length > viewTitleCharsMax)
    throw new SlackApiError('invalid_arguments', [`[ERROR] title longer than ${viewTitleCharsMax}`]);
  return record;
}

const handlers: Record<string, Handler> = {
  'auth.test': () => ({
    url: `https://${localTeamDomain}.slack.com/`,
    team: 'Tokenwise Test',
    user: 'tokenwise',
    team_id: localTeamId,
    user_id: localBotUserId,
    bot_id: localBotId,
    is_enterprise_install: false,
  }),

  'users.info': (state, args) => {
    const member = state.members.get(stringArg(args, 'user', 'user_not_found'));
    if (member === undefined) throw new SlackApiError('user_not_found');
    return { user: memberView(member) };
  },

  'users.lookupByEmail': (state, args) => {
    const email = stringArg(args, 'email', 'users_not_found').toLowerCase();
    const member = [...state.members.values()].find((candidate) => candidate.email?.toLowerCase() === email);
    if (member === undefined) throw new SlackApiError('users_not_found');
    return { user: memberView(member) };
  },

  'conversations.open': (state, args) => {
    const users = typeof args.users === 'string' ? args.users.split(',').filter((id) => id.length > 0) : [];
    if (users.length !== 1) throw new SlackApiError(users.length === 0 ? 'users_list_not_supplied' : 'not_supported');
    const userId = users[0] as string;
    if (!state.members.has(userId)) throw new SlackApiError('user_not_found');
    return { no_op: true, already_open: true, channel: { id: imChannelOf(userId) } };
  },

  'chat.postMessage': (state, args) => {
    const channel = knownChannel(state, stringArg(args, 'channel', 'channel_not_found'));
    const message: PostedMessage = {
      channel,
      ts: nextTs(state),
      ...messageContent(args),
      ephemeralTo: undefined,
      updates: 0,
    };
    state.messages.push(message);
    return {
      channel,
      ts: message.ts,
      message: { type: 'message', user: localBotUserId, bot_id: localBotId, text: message.text ?? '', ts: message.ts },
    };
  },

  'chat.postEphemeral': (state, args) => {
    const channel = knownChannel(state, stringArg(args, 'channel', 'channel_not_found'));
    const user = stringArg(args, 'user', 'user_not_in_channel');
    if (!state.members.has(user)) throw new SlackApiError('user_not_in_channel');
    const message: PostedMessage = {
      channel,
      ts: nextTs(state),
      ...messageContent(args),
      ephemeralTo: user,
      updates: 0,
    };
    state.messages.push(message);
    return { message_ts: message.ts };
  },

  'chat.update': (state, args) => {
    const channel = stringArg(args, 'channel', 'channel_not_found');
    const ts = stringArg(args, 'ts', 'message_not_found');
    const message = state.messages.find(
      (candidate) => candidate.channel === channel && candidate.ts === ts && candidate.ephemeralTo === undefined,
    );
    if (message === undefined) throw new SlackApiError('message_not_found');
    const content = messageContent(args);
    message.text = content.text;
    message.blocks = content.blocks;
    message.updates += 1;
    return { channel, ts, text: message.text ?? '', message: { text: message.text ?? '', ts } };
  },

  'views.publish': (state, args) => {
    const userId = stringArg(args, 'user_id', 'user_not_found');
    if (!state.members.has(userId)) throw new SlackApiError('user_not_found');
    const view = checkedView(args);
    if (view.type !== 'home') throw new SlackApiError('invalid_arguments', ['[ERROR] view.type must be home']);
    const id = nextId(state, 'V');
    state.views.push({ id, userId, view, kind: 'home' });
    return { view: { id, team_id: localTeamId, app_id: localAppId, bot_id: localBotId, ...view } };
  },

  'views.open': (state, args) => {
    const triggerId = stringArg(args, 'trigger_id', 'invalid_trigger_id');
    const trigger = state.triggers.get(triggerId);
    if (trigger === undefined) throw new SlackApiError('invalid_trigger_id');
    if (trigger.used || Date.now() - trigger.issuedAtMs > state.triggerTtlMs)
      throw new SlackApiError('expired_trigger_id');
    const view = checkedView(args);
    if (view.type !== 'modal') throw new SlackApiError('invalid_arguments', ['[ERROR] view.type must be modal']);
    trigger.used = true;
    const id = nextId(state, 'V');
    state.views.push({ id, userId: trigger.userId, view, kind: 'modal' });
    return { view: { id, team_id: localTeamId, app_id: localAppId, bot_id: localBotId, ...view } };
  },

  'apps.connections.open': (_state, _args, context) => ({ url: context.socketUrl }),
};

/** The methods that take the app-level token (xapp-) rather than the bot token. */
const appTokenMethods = new Set(['apps.connections.open']);

/** Runs one Web API method; throws SlackApiError for what Slack answers with `{ ok: false, error }`. */
export function callMethod(
  state: SlackState,
  method: string,
  args: Args,
  token: string | null,
  context: { socketUrl: string },
): Record<string, unknown> {
  const handler = handlers[method];
  if (handler === undefined) throw new SlackApiError('unknown_method');
  if (token === null || token.length === 0) throw new SlackApiError('not_authed');
  const expected = appTokenMethods.has(method) ? state.appToken : state.botToken;
  if (token !== expected) {
    const otherKind = appTokenMethods.has(method) ? state.botToken : state.appToken;
    throw new SlackApiError(token === otherKind ? 'not_allowed_token_type' : 'invalid_auth');
  }
  return handler(state, args, context);
}
