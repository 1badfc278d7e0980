import { TRPCClientError } from '@trpc/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { amountMax } from '@tokenwise/core';
import { setGrantBounds } from '@tokenwise/db';
import { createApiKey } from '@tokenwise/control';
import { createApiClient } from './client';
import { bodyBytesMax } from './limits';
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

describe('API over HTTP', () => {
  it('an api-scoped key reads `me` with bigint amounts intact', async () => {
    const { secret } = await createApiKey(f.db, {
      pepper: f.keyPepper,
      orgId: f.org.id,
      userId: f.users.employee.id,
      name: 'script',
      scopes: ['api'],
      actor: 'test',
    });
    const wallet = await f.ledger.ensureAccount({
      ownerType: 'user',
      ownerId: f.users.employee.id,
      orgId: f.org.id,
      currency: 'innovation',
      purpose: 'wallet',
    });
    const big = 2n ** 62n + 1n;
    // Beyond the default grant bounds: the operator raised this org's.
    await setGrantBounds(f.db, {
      orgId: f.org.id,
      currency: 'innovation',
      bounds: { grantAmountMax: amountMax, monthlyIssuanceMax: amountMax },
      actor: 'test',
    });
    await f.ledger.grant({
      id: 'http-grant',
      to: wallet.id,
      currency: 'innovation',
      amount: big,
      actor: 'test',
      reason: 'test',
      orgId: f.org.id,
    });
    const client = createApiClient({ url: server.url, apiKey: secret });
    const [profile, balances] = await Promise.all([client.me.profile.query(), client.me.balances.query()]);
    expect(profile.userId).toBe(f.users.employee.id);
    expect(balances.find((b) => b.currency === 'innovation')?.available).toBe(big);
  });

  it('no key is UNAUTHORIZED; a key without the api scope is FORBIDDEN', async () => {
    const anonymous = createApiClient({ url: server.url });
    const error = await anonymous.me.balances.query().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TRPCClientError);
    expect((error as TRPCClientError<never>).data).toMatchObject({ code: 'UNAUTHORIZED', httpStatus: 401 });
    const { secret } = await createApiKey(f.db, {
      pepper: f.keyPepper,
      orgId: f.org.id,
      userId: f.users.employee.id,
      name: 'inference only',
      actor: 'test',
    });
    const inferenceOnly = await createApiClient({ url: server.url, apiKey: secret })
      .me.balances.query()
      .catch((e: unknown) => e);
    expect((inferenceOnly as TRPCClientError<never>).data).toMatchObject({ code: 'FORBIDDEN' });
    const wrong = await createApiClient({ url: server.url, apiKey: `${secret.slice(0, -4)}AAAA` })
      .me.balances.query()
      .catch((e: unknown) => e);
    expect((wrong as TRPCClientError<never>).data).toMatchObject({ code: 'UNAUTHORIZED' });
  });

  it('a validation error names the field and carries no stack', async () => {
    const { secret } = await createApiKey(f.db, {
      pepper: f.keyPepper,
      orgId: f.org.id,
      userId: f.users.employee.id,
      name: 'v',
      scopes: ['api'],
      actor: 'test',
    });
    const error = (await createApiClient({ url: server.url, apiKey: secret })
      .usage.list.query({ limit: 500 })
      .catch((e: unknown) => e)) as TRPCClientError<never>;
    expect(error.data).toMatchObject({ code: 'BAD_REQUEST', httpStatus: 400, fields: ['limit'] });
    expect(error.message).toContain('limit');
    expect(JSON.stringify(error.data)).not.toContain('stack');
  });

  it('roles are read per request: a role removed by an admin stops working at once; a revoked key is refused', async () => {
    const { key, secret } = await createApiKey(f.db, {
      pepper: f.keyPepper,
      orgId: f.org.id,
      userId: f.users.lead.id,
      name: 'lead',
      scopes: ['api'],
      actor: 'test',
    });
    const lead = createApiClient({ url: server.url, apiKey: secret });
    expect(await lead.scores.leaderboard.query({})).toEqual([]);
    await (await f.as(f.users.admin)).admin.users.setRoles({ userId: f.users.lead.id, roles: ['employee'] });
    const demoted = (await lead.scores.leaderboard.query({}).catch((e: unknown) => e)) as TRPCClientError<never>;
    expect(demoted.data).toMatchObject({ code: 'FORBIDDEN', httpStatus: 403 });
    await (await f.as(f.users.admin)).keys.revoke({ keyId: key.id });
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    const revoked = (await lead.me.profile.query().catch((e: unknown) => e)) as TRPCClientError<never>;
    expect(revoked.data).toMatchObject({ code: 'UNAUTHORIZED' });
    expect(revoked.message).toContain('revoked');
  });

  it('a key created over HTTP derives from the Authorization key; revoking that with cascade refuses both within a second', async () => {
    const expiresAt = new Date(Date.now() + 5 * 86_400_000);
    const { key: parent, secret } = await createApiKey(f.db, {
      pepper: f.keyPepper,
      orgId: f.org.id,
      userId: f.users.colleague.id,
      name: 'p',
      scopes: ['api'],
      rpmLimit: 100,
      expiresAt,
      actor: 'test',
    });
    const client = createApiClient({ url: server.url, apiKey: secret });
    const refused = (await client.keys.create
      .mutate({ name: 'wider', scopes: ['inference', 'api'] })
      .catch((e: unknown) => e)) as TRPCClientError<never>;
    expect(refused.data).toMatchObject({ code: 'FORBIDDEN', httpStatus: 403 });
    expect(refused.message).toMatch(new RegExp(`^scopes: your key ${parent.id} has scopes \\[api\\]`));
    const created = await client.keys.create.mutate({ name: 'derived', scopes: ['api'] });
    expect(created.key).toMatchObject({ createdByKeyId: parent.id, rpmLimit: 100, expiresAt: expiresAt.toISOString() });
    const derived = createApiClient({ url: server.url, apiKey: created.secret });
    expect((await derived.me.profile.query()).userId).toBe(f.users.colleague.id);
    expect(await client.keys.revoke.mutate({ keyId: parent.id, cascade: true })).toMatchObject({
      derivedKeysRevoked: 1,
    });
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    const afterCascade = (await derived.me.profile.query().catch((e: unknown) => e)) as TRPCClientError<never>;
    expect(afterCascade.data).toMatchObject({ code: 'UNAUTHORIZED' });
    expect(afterCascade.message).toContain(`API key ${created.key.id} was revoked`);
  });

  it('an A/B result listing 60,000 assignees (1.9 MB) is taken; the same size anywhere else is refused with 413', async () => {
    const admin = await f.as(f.users.admin);
    const { secret } = await admin.admin.createServiceKey({ name: 'big results' });
    const assignees = Array.from({ length: 60_000 }, (_, i) => `assignee-${String(i).padStart(6, '0')}@example.test`);
    const result = {
      resultId: 'big-result',
      experimentKey: 'big-experiment',
      metricId: 'conversion',
      higherIsBetter: true,
      startedAt: '2026-10-01T00:00:00Z',
      variations: [
        { key: 'control', summary: { kind: 'mean' as const, count: 30_000, sum: 15_000, sumSquares: 15_000 } },
        { key: 'treatment', summary: { kind: 'mean' as const, count: 30_000, sum: 16_000, sumSquares: 16_000 } },
      ],
      assignments: { control: assignees.slice(0, 30_000), treatment: assignees.slice(30_000) },
    };
    const body = JSON.stringify(result);
    expect(body.length).toBeGreaterThan(1.5 * bodyBytesMax);
    const stored = await createApiClient({ url: server.url, apiKey: secret }).experiments.submitResults.mutate(result);
    expect(stored).toMatchObject({ resultId: 'big-result', stored: 'new', unmatchedAssignments: 60_000 });

    // Batched with another call, or sent to any other procedure by a key that may call it, the same body is too large.
    const employee = await createApiKey(f.db, {
      pepper: f.keyPepper,
      orgId: f.org.id,
      userId: f.users.employee.id,
      name: 'big bodies',
      scopes: ['api'],
      actor: 'test',
    });
    for (const [path, key] of [
      ['/experiments.submitResults,keys.create?batch=1', secret],
      ['/keys.create', employee.secret],
    ] as const) {
      const answer = await fetch(`${server.url}${path}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: path.includes('batch') ? JSON.stringify({ 0: result, 1: {} }) : body,
      });
      const text = await answer.text();
      // A batch answers 207 with each call's result; the oversized body fails them with 413.
      expect(answer.status, `${path}: ${text}`).toBe(path.includes('batch') ? 207 : 413);
      expect(text).toContain('PAYLOAD_TOO_LARGE');
      expect(text).toContain(`over ${bodyBytesMax} bytes`);
    }
  });
});
