import { verify } from '@octokit/webhooks-methods';
import { recordGithubDelivery, type Db } from '@tokenwise/db';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { decideGithubWebhook } from './github-webhook-evidence';

/** Where GitHub delivers webhooks. */
export const githubWebhookPath = '/webhooks/github';
/** Largest delivery accepted (GitHub caps payloads at 25 MB; a push of 2,048 commits fits in far less). */
export const githubWebhookBodyBytesMax = 5 * 1024 * 1024;
const deliveryIdPattern = /^[A-Za-z0-9-]{1,100}$/;
const eventPattern = /^[a-z_]{1,64}$/;

export function isGithubWebhook(req: IncomingMessage): boolean {
  return (req.url ?? '').split('?')[0] === githubWebhookPath;
}

function send(res: ServerResponse, status: number, message: string): void {
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8' });
  res.end(JSON.stringify({ message }));
}

/** Reads the body up to `bytesMax`; undefined when it is larger (the rest is not read). */
async function readBody(req: IncomingMessage, bytesMax: number): Promise<string | undefined> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > bytesMax) return undefined;
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > bytesMax) return undefined;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * `POST /webhooks/github`: verifies `X-Hub-Signature-256` under GITHUB_WEBHOOK_SECRET, records
 * each `X-GitHub-Delivery` once (a redelivery answers 200 and writes nothing), and turns merges
 * into the default branch (`pull_request` closed and merged, `push`) into evidence rows with an
 * outbox row each, for the worker's relay. Other events are recorded as ignored (202).
 */
export function githubWebhook(options: { db: Db; secret: string | undefined; bodyBytesMax?: number }) {
  const bodyBytesMax = options.bodyBytesMax ?? githubWebhookBodyBytesMax;
  return async function githubWebhookHandler(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.method !== 'POST') {
      res.setHeader('Allow', 'POST');
      return send(res, 405, `GitHub delivers with POST ${githubWebhookPath}.`);
    }
    if (options.secret === undefined)
      return send(
        res,
        503,
        "The GitHub webhook receiver is off: set GITHUB_WEBHOOK_SECRET to the webhook's secret on GitHub.",
      );
    const body = await readBody(req, bodyBytesMax);
    if (body === undefined) return send(res, 413, `A delivery may be at most ${bodyBytesMax} bytes.`);
    const signature = req.headers['x-hub-signature-256'];
    if (
      typeof signature !== 'string' ||
      !/^sha256=[0-9a-f]{64}$/.test(signature) ||
      !(await verify(options.secret, body, signature))
    )
      return send(res, 401, 'X-Hub-Signature-256 does not match this body under the configured secret.');
    const deliveryId = req.headers['x-github-delivery'];
    const event = req.headers['x-github-event'];
    if (typeof deliveryId !== 'string' || !deliveryIdPattern.test(deliveryId))
      return send(res, 400, 'X-GitHub-Delivery is missing or not a delivery GUID.');
    if (typeof event !== 'string' || !eventPattern.test(event))
      return send(res, 400, 'X-GitHub-Event is missing or malformed.');
    let payload: unknown;
    try {
      payload = JSON.parse(body);
    } catch {
      return send(res, 400, 'The body is not JSON: set the webhook content type to application/json.');
    }
    const decision = decideGithubWebhook(event, payload);
    if (decision.outcome === 'invalid') return send(res, 400, decision.message);
    const action =
      typeof (payload as { action?: unknown }).action === 'string'
        ? (payload as { action: string }).action.slice(0, 64)
        : null;
    const recorded = await recordGithubDelivery(options.db, {
      deliveryId,
      event,
      action,
      outcome: decision.outcome,
      reason: decision.outcome === 'ignored' ? decision.reason : null,
      evidence: decision.outcome === 'evidence' ? decision.evidence : undefined,
    });
    if (!recorded.recorded) return send(res, 200, `Delivery ${deliveryId} already received.`);
    if (decision.outcome === 'ignored') return send(res, 202, `Ignored: ${decision.reason}.`);
    if (decision.outcome === 'ping') return send(res, 200, 'pong');
    return send(res, 200, `Recorded evidence ${recorded.evidenceId ?? ''}.`);
  };
}
