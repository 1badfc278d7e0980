/**
 * What the local Slack remembers: workspace members, every Web API call, the messages and views
 * it holds, the posts to response URLs, and the faults tests ask for. Shared by the Web API, the
 * response-URL catcher, the signed-request sender and the Socket Mode endpoint.
 */

/** Our workspace's fixed ids; the bot's identity as `auth.test` reports it. */
export const localTeamId = 'T0TOKENWISE';
export const localTeamDomain = 'tokenwise-test';
export const localAppId = 'A0TOKENWISE';
export const localBotUserId = 'U0BOT';
export const localBotId = 'B0BOT';

/** A workspace member as `users.info` knows them. */
export interface SlackMember {
  id: string;
  name: string;
  realName: string;
  /** Absent: the profile has no email (a bot, or the app lacks `users:read.email`). */
  email?: string;
  deleted?: boolean;
  isBot?: boolean;
}

/** One Web API request as the server received it (token already split from the arguments). */
export interface ApiCall {
  method: string;
  args: Record<string, unknown>;
  /** The token from `Authorization: Bearer` or the body's `token` field; null when none was sent. */
  token: string | null;
  contentType: string;
  /** What the server answered: ok, a Slack error code, or 'ratelimited' (HTTP 429). */
  outcome: 'ok' | 'ratelimited' | string;
  atMs: number;
}

/** A message the bot posted (`chat.postMessage`, `chat.postEphemeral`), kept current by `chat.update`. */
export interface PostedMessage {
  channel: string;
  ts: string;
  text: string | undefined;
  blocks: unknown[] | undefined;
  /** Set for an ephemeral message: the only member who sees it. */
  ephemeralTo: string | undefined;
  /** How many times `chat.update` changed it. */
  updates: number;
}

/** A view the bot opened (`views.open`) or published (`views.publish`). */
export interface ViewRecord {
  id: string;
  /** The member whose Home it is (`views.publish`), or who opened the modal (from the trigger). */
  userId: string;
  view: Record<string, unknown>;
  kind: 'home' | 'modal';
}

/** One POST to a response URL the local Slack handed out with a command or interaction. */
export interface ResponsePost {
  /** The response URL's id (the last path segment). */
  id: string;
  body: Record<string, unknown>;
  atMs: number;
}

/** What a method answers instead of its work, for the next `times` calls. */
export type ApiFault =
  | { kind: 'ratelimited'; retryAfterSeconds: number }
  | { kind: 'error'; error: string }
  | { kind: 'http'; status: number };

export interface Trigger {
  userId: string;
  issuedAtMs: number;
  used: boolean;
}

export interface SlackState {
  botToken: string;
  appToken: string;
  signingSecret: string;
  members: Map<string, SlackMember>;
  calls: ApiCall[];
  messages: PostedMessage[];
  views: ViewRecord[];
  responses: ResponsePost[];
  faults: Map<string, { fault: ApiFault; remaining: number }[]>;
  triggers: Map<string, Trigger>;
  /** How long a trigger_id may be used for views.open (Slack: 3 s). */
  triggerTtlMs: number;
  counter: number;
}

export function createSlackState(options: {
  botToken: string;
  appToken: string;
  signingSecret: string;
  triggerTtlMs: number;
}): SlackState {
  return {
    ...options,
    members: new Map(),
    calls: [],
    messages: [],
    views: [],
    responses: [],
    faults: new Map(),
    triggers: new Map(),
    counter: 0,
  };
}

/** A fresh id with Slack's look: a prefix letter and upper-case alphanumerics. */
export function nextId(state: SlackState, prefix: string): string {
  state.counter += 1;
  return `${prefix}${state.counter.toString(36).toUpperCase().padStart(8, '0')}`;
}

/** A message timestamp: seconds, a dot and six digits, unique and increasing like Slack's. */
export function nextTs(state: SlackState): string {
  state.counter += 1;
  return `${Math.floor(Date.now() / 1000)}.${String(state.counter % 1_000_000).padStart(6, '0')}`;
}

/** A trigger id for views.open, issued with a command or an interaction and good for `triggerTtlMs`. */
export function issueTrigger(state: SlackState, userId: string): string {
  state.counter += 1;
  const id = `${Date.now()}.${state.counter}.${Math.random().toString(16).slice(2, 18)}`;
  state.triggers.set(id, { userId, issuedAtMs: Date.now(), used: false });
  return id;
}

/** The fault to answer with now, if one is queued for `method`; consumes one use of it. */
export function takeFault(state: SlackState, method: string): ApiFault | undefined {
  const queue = state.faults.get(method);
  const head = queue?.[0];
  if (queue === undefined || head === undefined) return undefined;
  head.remaining -= 1;
  if (head.remaining <= 0) queue.shift();
  return head.fault;
}
