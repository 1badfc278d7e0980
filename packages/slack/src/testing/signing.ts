import { createHmac } from 'node:crypto';

/** Slack's request signature: `v0=` + hex HMAC-SHA256 over `v0:<timestamp>:<raw body>` under the signing secret. */
export function slackSignature(signingSecret: string, timestampSeconds: number, body: string): string {
  return `v0=${createHmac('sha256', signingSecret).update(`v0:${timestampSeconds}:${body}`).digest('hex')}`;
}

export interface RawDelivery {
  body: string;
  contentType: 'application/x-www-form-urlencoded' | 'application/json';
  /** Seconds since the epoch; now unless a test sends a stale request. */
  timestampSeconds?: number;
  /** Replaces the computed signature: a forged request. */
  signature?: string;
}

export interface HttpDelivery {
  status: number;
  /** The bot's HTTP answer (the ack's body, if any). */
  body: string;
  elapsedMs: number;
}

/** POSTs one request to the bot's events URL the way Slack does: raw body, signature and timestamp headers. */
export async function postSigned(url: string, signingSecret: string, request: RawDelivery): Promise<HttpDelivery> {
  const timestampSeconds = request.timestampSeconds ?? Math.floor(Date.now() / 1000);
  const startedMs = performance.now();
  const response = await fetch(url, {
    method: 'POST',
    headers: {
      'content-type': request.contentType,
      'x-slack-request-timestamp': String(timestampSeconds),
      'x-slack-signature': request.signature ?? slackSignature(signingSecret, timestampSeconds, request.body),
      'user-agent': 'Slackbot 1.0 (+https://api.slack.com/robots)',
    },
    body: request.body,
    signal: AbortSignal.timeout(10_000),
  });
  const body = await response.text();
  return { status: response.status, body, elapsedMs: performance.now() - startedMs };
}

/** A slash command's form body. */
export function formBody(fields: Record<string, string>): string {
  return new URLSearchParams(fields).toString();
}

/** An interaction's body: one form field, `payload`, holding the JSON. */
export function interactionBody(payload: Record<string, unknown>): string {
  return new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
}
