import { ConflictError, DomainError, ForbiddenError, ValidationError } from '@tokenwise/core';
import { experimentsScope, experimentsWebhookKey, submitExperimentResults } from '@tokenwise/control';
import { findExperimentsServiceKey, type Db } from '@tokenwise/db';
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { submitResultsBytesMax } from './limits';

/** Where experimentation platforms push results, signed the Standard Webhooks way. */
export const experimentsWebhookPath = '/webhooks/experiments';
/** Bytes of one webhook body: as much as experiments.submitResults takes (100,000 assignees fit). */
export const experimentsWebhookBytesMax = submitResultsBytesMax;
/** How far a `webhook-timestamp` may be from the server's clock, either way. */
export const webhookToleranceSeconds = 5 * 60;
const keyIdPattern = /^[a-z2-7]{12}$/;
const webhookIdLengthMax = 256;
const signatureHeaderLengthMax = 2_048;

export function isExperimentsWebhook(req: IncomingMessage): boolean {
  return (req.url ?? '').split('?')[0] === experimentsWebhookPath;
}

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Cache-Control': 'no-store' });
  res.end(JSON.stringify(body));
}
const fail = (res: ServerResponse, status: number, code: string, message: string) =>
  send(res, status, { error: { code, message } });

async function readBody(req: IncomingMessage): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let bytes = 0;
  for await (const chunk of req) {
    bytes += (chunk as Buffer).length;
    if (bytes > experimentsWebhookBytesMax) return undefined;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

const header = (req: IncomingMessage, name: string) => {
  const value = req.headers[name];
  return typeof value === 'string' ? value : undefined;
};

/** Whether one of the `v1,<base64>` signatures is HMAC-SHA256(key, id.timestamp.body), compared in constant time. */
export function webhookSignatureMatches(
  key: Buffer,
  id: string,
  timestamp: string,
  body: Buffer,
  signatures: string,
): boolean {
  const expected = createHmac('sha256', key).update(`${id}.${timestamp}.`).update(body).digest();
  let matched = false;
  for (const entry of signatures.split(' ')) {
    const [version, value] = entry.split(',', 2);
    if (version !== 'v1' || value === undefined) continue;
    const presented = Buffer.from(value, 'base64');
    if (presented.length === expected.length && timingSafeEqual(presented, expected)) matched = true;
  }
  return matched;
}

const unauthorized =
  'Unknown key id or bad signature: sign `webhook-id.webhook-timestamp.body` with HMAC-SHA256 under the webhook secret given with the service key, and send `webhook-signature: v1,<base64>` and `x-tokenwise-key-id: <key id>`.';

/**
 * `POST /webhooks/experiments`: the body of experiments.submitResults as JSON, authenticated by
 * the service key's derived webhook secret instead of the key itself.
 */
export function experimentsWebhook(deps: { db: Db; keyPepper: Buffer; clock?: () => Date }) {
  return async function experimentsWebhookHandler(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.method !== 'POST') {
      res.setHeader('Allow', 'POST');
      return fail(res, 405, 'METHOD_NOT_SUPPORTED', `Use POST ${experimentsWebhookPath}.`);
    }
    const declared = Number(header(req, 'content-length') ?? 0);
    if (declared > experimentsWebhookBytesMax)
      return fail(res, 413, 'PAYLOAD_TOO_LARGE', `The body may be at most ${experimentsWebhookBytesMax} bytes.`);
    const id = header(req, 'webhook-id');
    const timestamp = header(req, 'webhook-timestamp');
    const signatures = header(req, 'webhook-signature');
    const keyId = header(req, 'x-tokenwise-key-id');
    if (id === undefined || timestamp === undefined || signatures === undefined || keyId === undefined)
      return fail(res, 401, 'UNAUTHORIZED', `Missing header: ${unauthorized}`);
    if (id.length > webhookIdLengthMax || signatures.length > signatureHeaderLengthMax || !keyIdPattern.test(keyId))
      return fail(
        res,
        400,
        'BAD_REQUEST',
        'webhook-id, webhook-signature or x-tokenwise-key-id is malformed or too long.',
      );
    const now = (deps.clock ?? (() => new Date()))();
    const nowSeconds = Math.floor(now.getTime() / 1000);
    if (!/^\d{1,12}$/.test(timestamp) || Math.abs(nowSeconds - Number(timestamp)) > webhookToleranceSeconds)
      return fail(
        res,
        401,
        'UNAUTHORIZED',
        `webhook-timestamp must be the current Unix time in seconds (within ${webhookToleranceSeconds} s): a stale or replayed delivery is refused.`,
      );
    const body = await readBody(req);
    if (body === undefined)
      return fail(res, 413, 'PAYLOAD_TOO_LARGE', `The body may be at most ${experimentsWebhookBytesMax} bytes.`);
    const key = await findExperimentsServiceKey(deps.db, { keyId });
    // An unknown key and a wrong signature answer alike, so nobody learns which key ids exist.
    if (
      key === undefined ||
      !webhookSignatureMatches(experimentsWebhookKey(deps.keyPepper, keyId), id, timestamp, body, signatures)
    )
      return fail(res, 401, 'UNAUTHORIZED', unauthorized);
    // The exact time, not the second it falls in: a key rotated with no overlap ends now, not up to 1 s later.
    if (
      key.revokedAt !== null ||
      (key.expiresAt !== null && key.expiresAt <= now) ||
      !key.scopes.includes(experimentsScope)
    )
      return fail(res, 403, 'FORBIDDEN', `Service key ${keyId} is revoked or expired: ask an admin for a new one.`);
    let input: unknown;
    try {
      input = JSON.parse(body.toString('utf8'));
    } catch {
      return fail(res, 400, 'BAD_REQUEST', 'The body is not JSON: send the result as application/json.');
    }
    try {
      const outcome = await submitExperimentResults(deps.db, {
        service: { keyId, orgId: key.orgId },
        input,
        actor: `webhook:${keyId}`,
      });
      return send(res, outcome.stored === 'new' ? 201 : 200, outcome);
    } catch (error) {
      if (error instanceof ValidationError) return fail(res, 400, 'BAD_REQUEST', error.message);
      if (error instanceof ConflictError) return fail(res, 409, 'CONFLICT', error.message);
      if (error instanceof ForbiddenError) return fail(res, 403, 'FORBIDDEN', error.message);
      if (error instanceof DomainError) return fail(res, 400, 'BAD_REQUEST', error.message);
      throw error;
    }
  };
}
