import { createApiKey, createKeyStore, experimentsWebhookSecret, rotateApiKey } from '@tokenwise/control';
import { findExperimentsServiceKey } from '@tokenwise/db';
import { apiKeys } from '@tokenwise/db/schema';
import { eq } from 'drizzle-orm';
import { createHmac } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createContextInner } from './context';
import { createCaller } from './router';
import { startApiServer, type RunningApiServer } from './server';
import { openApiFixture, type ApiFixture } from './test-fixtures';

let f: ApiFixture;
let server: RunningApiServer;
beforeAll(async () => {
  f = await openApiFixture();
  server = await startApiServer({ db: f.db, ledger: f.ledger, keyPepper: f.keyPepper });
});
afterAll(async () => {
  await server?.close();
  await f?.close();
});

const summary = { kind: 'binomial' as const, count: 100, sum: 40 };
const result = (resultId: string) => ({
  resultId,
  experimentKey: 'rotation',
  metricId: 'conversion',
  higherIsBetter: true,
  startedAt: '2026-10-01T00:00:00Z',
  variations: [
    { key: 'control', summary },
    { key: 'b', summary },
  ],
  assignments: { b: [f.users.employee.email] },
});

/** POST /webhooks/experiments signed as Standard Webhooks says, with `whsec_...` of `keyId`. */
function postWebhook(keyId: string, webhookSecret: string, resultId: string) {
  const text = JSON.stringify(result(resultId));
  const id = `msg-${resultId}`;
  const timestamp = String(Math.floor(Date.now() / 1000));
  const key = Buffer.from(webhookSecret.replace(/^whsec_/, ''), 'base64');
  const signature = createHmac('sha256', key).update(`${id}.${timestamp}.${text}`).digest('base64');
  return fetch(`${server.url}/webhooks/experiments`, {
    method: 'POST',
    body: text,
    headers: {
      'content-type': 'application/json',
      'webhook-id': id,
      'webhook-timestamp': timestamp,
      'webhook-signature': `v1,${signature}`,
      'x-tokenwise-key-id': keyId,
    },
  });
}

/** experiments.submitResults as the HTTP context would build it from `secret`: authenticated by the key store. */
async function submitWithKey(secret: string, resultId: string) {
  const keyStore = createKeyStore({ db: f.db, pepper: f.keyPepper, cacheTtlMs: 0 });
  try {
    const principal = await keyStore.authenticate(`Bearer ${secret}`);
    const caller = createCaller(
      await createContextInner({
        db: f.db,
        ledger: f.ledger,
        keyPepper: f.keyPepper,
        service: { keyId: principal.keyId, orgId: principal.orgId },
      }),
    );
    return await caller.experiments.submitResults(result(resultId));
  } finally {
    keyStore.close();
  }
}

async function serviceKey(name: string) {
  return (await f.as(f.users.admin)).admin.createServiceKey({ name });
}

describe('rotating a service key (tokenwise keys rotate)', () => {
  it('keeps the experiments scope, the system owner and the submitter; the webhook secret moves to the new key id', async () => {
    const old = await serviceKey('gb rotate');
    const rotated = await rotateApiKey(f.db, {
      pepper: f.keyPepper,
      keyId: old.key.id,
      overlapSeconds: 3_600,
      actor: 'cli:test',
    });
    expect(rotated.key).toMatchObject({ scopes: ['experiments'], systemOwner: 'experiments', userId: null });
    expect(await findExperimentsServiceKey(f.db, { keyId: rotated.key.id })).toMatchObject({
      orgId: f.org.id,
      createdByUserId: f.users.admin.id,
    });
    expect(rotated.webhookSecret).toBe(experimentsWebhookSecret(f.keyPepper, rotated.key.id));
    expect(rotated.webhookSecret).not.toBe(old.webhookSecret);

    expect((await submitWithKey(rotated.secret, 'rot-api-new')).stored).toBe('new');
    expect((await postWebhook(rotated.key.id, rotated.webhookSecret as string, 'rot-hook-new')).status).toBe(201);
    // The old key id with its old secret: the new webhook secret never signs for it.
    expect((await postWebhook(old.key.id, rotated.webhookSecret as string, 'rot-hook-mixed')).status).toBe(401);
    // During the overlap the old key and its own webhook secret still work, so the platform can switch.
    expect((await submitWithKey(old.secret, 'rot-api-old')).stored).toBe('new');
    expect((await postWebhook(old.key.id, old.webhookSecret, 'rot-hook-old')).status).toBe(201);
  });

  it('with no overlap the old key and its webhook secret stop at once; the new ones work', async () => {
    const old = await serviceKey('gb rotate now');
    const rotated = await rotateApiKey(f.db, { pepper: f.keyPepper, keyId: old.key.id, overlapSeconds: 0, actor: 't' });
    await expect(submitWithKey(old.secret, 'rot0-api-old')).rejects.toThrow(/expired|rotated/);
    expect((await postWebhook(old.key.id, old.webhookSecret, 'rot0-hook-old')).status).toBe(403);
    expect((await postWebhook(rotated.key.id, rotated.webhookSecret as string, 'rot0-hook-new')).status).toBe(201);
  });

  it('a key with the experiments scope but no service-key row is refused, not rotated into a second such key', async () => {
    // What the bug left behind: a key with the scope and the owner but no service-key row.
    const { key } = await createApiKey(f.db, {
      pepper: f.keyPepper,
      orgId: f.org.id,
      systemOwner: 'judge',
      name: 'orphan',
      scopes: ['api'],
      actor: 'test',
    });
    await f.db
      .update(apiKeys)
      .set({ scopes: ['experiments'], systemOwner: 'experiments' })
      .where(eq(apiKeys.id, key.id));
    await expect(
      rotateApiKey(f.db, { pepper: f.keyPepper, keyId: key.id, overlapSeconds: 0, actor: 't' }),
    ).rejects.toThrow(/not a service key.*admin\.createServiceKey/);
    const [row] = await f.db.select().from(apiKeys).where(eq(apiKeys.id, key.id));
    expect(row?.replacedBy).toBeNull();
  });

  it("rotating an employee's key gives no webhook secret and never the experiments scope", async () => {
    const { key } = await f.withKey(f.users.employee);
    const rotated = await rotateApiKey(f.db, { pepper: f.keyPepper, keyId: key.id, overlapSeconds: 0, actor: 't' });
    expect(rotated.key.scopes).toEqual(['inference', 'api']);
    expect(rotated.webhookSecret).toBeUndefined();
    expect(await findExperimentsServiceKey(f.db, { keyId: rotated.key.id })).toBeUndefined();
  });
});

describe('the other key procedures treat a service key as an admin-only system key', () => {
  it('an employee can neither revoke a service key nor see it; an admin revokes it and its webhook stops', async () => {
    const created = await serviceKey('gb revoke');
    const { caller: employee } = await f.withKey(f.users.employee);
    await expect(employee.keys.revoke({ keyId: created.key.id })).rejects.toMatchObject({ code: 'FORBIDDEN' });
    expect((await employee.keys.list()).map((key) => key.id)).not.toContain(created.key.id);
    await expect(employee.keys.list({ allOfOrg: true })).rejects.toMatchObject({ code: 'FORBIDDEN' });
    const admin = await f.as(f.users.admin);
    const listed = (await admin.keys.list({ allOfOrg: true })).find((key) => key.id === created.key.id);
    expect(listed).toMatchObject({ userId: null, scopes: ['experiments'] });
    expect(JSON.stringify(listed)).not.toContain(created.secret.slice(-20));
    await admin.keys.revoke({ keyId: created.key.id });
    expect((await postWebhook(created.key.id, created.webhookSecret, 'revoked-hook')).status).toBe(403);
  });

  it('nobody mints the experiments scope through keys.create, for themselves or for someone else', async () => {
    const { caller: employee } = await f.withKey(f.users.employee);
    const { caller: admin } = await f.withKey(f.users.admin);
    for (const caller of [employee, admin])
      await expect(caller.keys.create({ name: 'x', scopes: ['experiments' as 'api'] })).rejects.toMatchObject({
        code: 'BAD_REQUEST',
      });
    await expect(
      admin.keys.create({ name: 'x', userId: f.users.employee.id, scopes: ['experiments' as 'api'] }),
    ).rejects.toMatchObject({ code: 'BAD_REQUEST' });
    const cliKey = (systemOwner: string, scopes: ('api' | 'inference' | 'experiments')[]) =>
      createApiKey(f.db, { pepper: f.keyPepper, orgId: f.org.id, systemOwner, name: 'cli', scopes, actor: 'cli:test' });
    await expect(cliKey('judge', ['experiments'])).rejects.toThrow(/scopes/);
    // Nor a key of the service keys' system account without its row, whatever its scopes.
    await expect(cliKey('experiments', ['inference'])).rejects.toThrow(/owns service keys only/);
  });
});
