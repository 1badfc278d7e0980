import { createHmac } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApiServer, type RunningApiServer } from './server';
import { openApiFixture, type ApiFixture } from './test-fixtures';

let f: ApiFixture;
let server: RunningApiServer;
let keyId: string;
let secret: string;
let otherKeyId: string;
beforeAll(async () => {
  f = await openApiFixture();
  server = await startApiServer({ db: f.db, ledger: f.ledger, keyPepper: f.keyPepper });
  const created = await (await f.as(f.users.admin)).admin.createServiceKey({ name: 'gb' });
  keyId = created.key.id;
  secret = created.webhookSecret;
  otherKeyId = (await (await f.as(f.otherAdmin)).admin.createServiceKey({ name: 'globex' })).key.id;
});
afterAll(async () => {
  await server?.close();
  await f?.close();
});

const summary = { kind: 'binomial', count: 100, sum: 40 };
const body = (resultId: string, metricId = 'conversion') =>
  JSON.stringify({
    resultId,
    experimentKey: 'exp-1',
    metricId,
    higherIsBetter: true,
    startedAt: '2026-10-01T00:00:00Z',
    variations: [
      { key: 'control', summary },
      { key: 'b', summary },
    ],
    assignments: { b: [f.users.employee.email] },
  });

function sign(text: string, options: { secret?: string; keyId?: string; timestamp?: number; id?: string } = {}) {
  const id = options.id ?? `msg-${Math.random()}`;
  const timestamp = String(options.timestamp ?? Math.floor(Date.now() / 1000));
  const key = Buffer.from((options.secret ?? secret).replace(/^whsec_/, ''), 'base64');
  const signature = createHmac('sha256', key).update(`${id}.${timestamp}.${text}`).digest('base64');
  return {
    'content-type': 'application/json',
    'webhook-id': id,
    'webhook-timestamp': timestamp,
    'webhook-signature': `v1,${signature}`,
    'x-tokenwise-key-id': options.keyId ?? keyId,
  };
}

const post = (text: string, headers: Record<string, string>) =>
  fetch(`${server.url}/webhooks/experiments`, { method: 'POST', body: text, headers });

describe('POST /webhooks/experiments', () => {
  it('a good signature stores the result (201), a redelivery is 200 duplicate, other content 409', async () => {
    const text = body('w-1');
    const first = await post(text, sign(text));
    expect(first.status).toBe(201);
    expect(await first.json()).toMatchObject({ resultId: 'w-1', stored: 'new', assignedUsers: 1 });
    const again = await post(text, sign(text));
    expect(again.status).toBe(200);
    expect(await again.json()).toMatchObject({ stored: 'duplicate' });
    const changed = body('w-1', 'revenue');
    const conflict = await post(changed, sign(changed));
    expect(conflict.status).toBe(409);
  });

  it('a bad signature, an unknown key and another org key answer the same 401', async () => {
    const text = body('w-2');
    const answers = await Promise.all([
      post(text, { ...sign(text), 'webhook-signature': 'v1,AAAA' }),
      post(text, sign(text, { keyId: 'aaaaaaaaaaaa' })),
      post(text, sign(text, { keyId: otherKeyId })),
      post(text + ' ', sign(text)),
    ]);
    const bodies = await Promise.all(answers.map((answer) => answer.json()));
    expect(answers.map((answer) => answer.status)).toEqual([401, 401, 401, 401]);
    expect(new Set(bodies.map((item) => JSON.stringify(item))).size).toBe(1);
  });

  it('a stale timestamp is 401, a body that is not a result is 400, a huge body 413', async () => {
    const text = body('w-3');
    const stale = await post(text, sign(text, { timestamp: Math.floor(Date.now() / 1000) - 301 }));
    expect(stale.status).toBe(401);
    expect(((await stale.json()) as { error: { message: string } }).error.message).toContain('webhook-timestamp');
    const bad = JSON.stringify({ resultId: 'w-4' });
    const invalid = await post(bad, sign(bad));
    expect(invalid.status).toBe(400);
    expect(((await invalid.json()) as { error: { message: string } }).error.message).toContain('experimentKey');
    const huge = 'x'.repeat(9 * 1024 * 1024);
    expect((await post(huge, sign('x'))).status).toBe(413);
  });

  it('a revoked key is refused', async () => {
    const admin = await f.as(f.users.admin);
    const created = await admin.admin.createServiceKey({ name: 'soon revoked' });
    await admin.keys.revoke({ keyId: created.key.id });
    const text = body('w-5');
    const answer = await post(text, sign(text, { keyId: created.key.id, secret: created.webhookSecret }));
    expect(answer.status).toBe(403);
  });
});
