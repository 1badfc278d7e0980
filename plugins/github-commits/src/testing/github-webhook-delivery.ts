import { createHmac, randomUUID } from 'node:crypto';
import type { GithubPull, GithubRepo } from './github-state';

/** What the receiver answered to one delivery. */
export interface WebhookDeliveryAnswer {
  deliveryId: string;
  status: number;
  body: string;
}

/** The `X-Hub-Signature-256` GitHub sends: `sha256=` and the hex HMAC-SHA256 of the raw body under the secret. */
export function signWebhookBody(secret: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(body, 'utf8').digest('hex')}`;
}

/**
 * Sends one webhook delivery as GitHub does: a JSON POST with `X-GitHub-Event`,
 * `X-GitHub-Delivery` (a fresh GUID unless `deliveryId` repeats one, as a redelivery does),
 * `X-Hub-Signature-256` and the Hookshot user agent. `body` overrides the serialised payload
 * (e.g. to send bytes other than those signed, with `signature`).
 */
export async function deliverWebhook(params: {
  url: string;
  secret: string;
  event: string;
  payload: unknown;
  deliveryId?: string;
  body?: string;
  signature?: string;
}): Promise<WebhookDeliveryAnswer> {
  const deliveryId = params.deliveryId ?? randomUUID();
  const body = params.body ?? JSON.stringify(params.payload);
  const response = await fetch(params.url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'user-agent': 'GitHub-Hookshot/044aadd',
      'x-github-event': params.event,
      'x-github-delivery': deliveryId,
      'x-github-hook-id': '292430182',
      'x-hub-signature-256': params.signature ?? signWebhookBody(params.secret, body),
    },
    body,
  });
  return { deliveryId, status: response.status, body: await response.text() };
}

/** The `pull_request` closed-and-merged delivery GitHub sends for `pull`. */
export function mergedPullPayload(repo: GithubRepo, pull: GithubPull) {
  return {
    action: 'closed',
    number: pull.number,
    repository: { full_name: `${repo.owner}/${repo.name}`, default_branch: repo.defaultBranch },
    pull_request: {
      number: pull.number,
      merged: true,
      merged_at: pull.mergedAt,
      merge_commit_sha: pull.mergeCommitSha,
      title: pull.title,
      body: pull.body,
      user: { login: pull.user },
      merged_by: { login: pull.mergedBy },
      base: { ref: pull.baseRef },
    },
  };
}

/** A GitHub `patch` that adds `lines` as a new file. */
export function newFilePatch(lines: readonly string[]): string {
  return `@@ -0,0 +1,${lines.length} @@\n${lines.map((line) => `+${line}`).join('\n')}`;
}
