import { webApi } from '@slack/bolt';

/**
 * The Web API client of delivery and approvals: no SDK retries and 429 answered at once (as
 * `slack_webapi_rate_limited_error` with `retryAfter`), so a Slack outage never blocks the loop
 * for the SDK's half hour; the loop retries durably and honours Retry-After for all its sends.
 */
export function createDeliveryClient(botToken: string, clientOptions: webApi.WebClientOptions): webApi.WebClient {
  return new webApi.WebClient(botToken, {
    ...clientOptions,
    retryConfig: { retries: 0 },
    rejectRateLimitedCalls: true,
  });
}
