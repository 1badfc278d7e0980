/**
 * What a failed Web API call means for a delivery, from the errors @slack/web-api throws
 * (`code` slack_webapi_rate_limited_error with `retryAfter` seconds, slack_webapi_http_error,
 * slack_webapi_request_error, slack_webapi_platform_error with `data.error`).
 */
export type SlackFailure =
  /** HTTP 429: try nothing before `retryAfterMs` has passed (Slack's Retry-After). */
  | { kind: 'rate_limited'; retryAfterMs: number; error: string }
  /** An outage, a timeout, a revoked or not-yet-valid token: try again later, with backoff. */
  | { kind: 'transient'; error: string }
  /** The person is not (or no longer) in the workspace: no DM can reach them. */
  | { kind: 'no_slack_user'; error: string }
  /** Slack refuses this message as such (it would refuse it again): stop trying it. */
  | { kind: 'permanent'; error: string };

/** Platform errors that mean the recipient cannot be reached, whatever is sent. */
const recipientErrors = new Set([
  'users_not_found',
  'user_not_found',
  'user_disabled',
  'account_inactive',
  'cannot_dm_bot',
  'user_not_visible',
]);

/** Platform errors about the message itself: sending it again gets the same answer. */
const messageErrors = new Set([
  'invalid_blocks',
  'invalid_blocks_format',
  'msg_too_long',
  'no_text',
  'too_many_attachments',
  'invalid_arguments',
  'channel_not_found',
  'is_archived',
  'restricted_action',
  'message_not_found',
  'cant_update_message',
  'edit_window_closed',
]);

interface SlackErrorShape {
  code?: unknown;
  retryAfter?: unknown;
  statusCode?: unknown;
  data?: { error?: unknown };
  message?: unknown;
}

/** Classifies an error thrown by a WebClient call made with `rejectRateLimitedCalls` and no retries. */
export function classifySlackFailure(error: unknown): SlackFailure {
  const shape = (typeof error === 'object' && error !== null ? error : {}) as SlackErrorShape;
  if (shape.code === 'slack_webapi_rate_limited_error') {
    const seconds = typeof shape.retryAfter === 'number' && shape.retryAfter >= 0 ? shape.retryAfter : 1;
    return { kind: 'rate_limited', retryAfterMs: seconds * 1000, error: `ratelimited (retry after ${seconds} s)` };
  }
  if (shape.code === 'slack_webapi_platform_error') {
    const code = typeof shape.data?.error === 'string' ? shape.data.error : 'unknown_error';
    if (recipientErrors.has(code)) return { kind: 'no_slack_user', error: code };
    if (messageErrors.has(code)) return { kind: 'permanent', error: code };
    return { kind: 'transient', error: code };
  }
  if (shape.code === 'slack_webapi_http_error')
    return { kind: 'transient', error: `http ${typeof shape.statusCode === 'number' ? shape.statusCode : '?'}` };
  const message = typeof shape.message === 'string' ? shape.message : String(error);
  return { kind: 'transient', error: message.slice(0, 200) };
}
