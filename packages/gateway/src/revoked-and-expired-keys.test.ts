import { gatewayRequests } from '@tokenwise/db/schema';
import { checkInvariants } from '@tokenwise/ledger';
import { describeEachBackend } from '@tokenwise/db/testing';
import { eq } from 'drizzle-orm';
import OpenAI from 'openai';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createApiKey, createDerivedApiKey, revokeApiKey, revokeApiKeyCascade } from '@tokenwise/control';
import { startGatewayWorld, testModel, type GatewayWorld } from './test-kit';

type ApiError = InstanceType<typeof OpenAI.APIError>;

/** The key cache keeps a row for at most 1 s; twice that, and a change must have reached the gateway. */
const propagationMsMax = 2_000;

describeEachBackend('revoked, expired and unscoped keys through the gateway', (database) => {
  let world: GatewayWorld;
  beforeAll(async () => {
    world = await startGatewayWorld(database());
  });
  afterAll(async () => {
    await world?.close();
  });
  const client = (apiKey: string) => new OpenAI({ apiKey, baseURL: `${world.gateway.url}/v1`, maxRetries: 0 });
  const chat = (apiKey: string) =>
    client(apiKey)
      .chat.completions.create({ model: testModel, messages: [{ role: 'user', content: 'hello' }], max_tokens: 8 })
      .then(
        () => undefined,
        (error: unknown) => error as ApiError,
      );
  /** Lists models (authenticated, never charged) until the gateway refuses the key; the refusal, or undefined. */
  async function refusedWithin(apiKey: string, ms: number): Promise<ApiError | undefined> {
    const deadline = Date.now() + ms;
    for (;;) {
      const error = await client(apiKey)
        .models.list()
        .then(
          () => undefined,
          (caught: unknown) => caught as ApiError,
        );
      if (error !== undefined || Date.now() > deadline) return error;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
  /** Every wallet of the user, and its admissions: what a refused key must never change. */
  const snapshot = async (user: Awaited<ReturnType<GatewayWorld['user']>>) => ({
    balances: await Promise.all(Object.values(user.wallets).map((wallet) => world.ledger.balance(wallet))),
    admissions: await database()
      .db.select({ requestId: gatewayRequests.requestId })
      .from(gatewayRequests)
      .where(eq(gatewayRequests.userId, user.userId)),
  });

  it('refuses a revoked key with 401 within the key cache TTL, charging nothing', async () => {
    const user = await world.user({ innovation: 1_000_000n });
    // Warm the gateway's key cache, so the refusal below has to come through its expiry.
    expect((await client(user.apiKey).models.list()).data.map((model) => model.id)).toEqual([testModel]);
    const before = await snapshot(user);
    await revokeApiKey(database().db, { keyId: user.keyId, actor: 'test' });

    const refusal = await refusedWithin(user.apiKey, propagationMsMax);
    expect(refusal).toBeInstanceOf(OpenAI.AuthenticationError);
    const error = await chat(user.apiKey);
    expect(error).toBeInstanceOf(OpenAI.AuthenticationError);
    expect(error).toMatchObject({ status: 401, error: { type: 'authentication_error', code: 'invalid_api_key' } });
    expect(error?.message).toMatch(
      new RegExp(`API key ${user.keyId} was revoked at .*: ask an admin for a new key\\.`),
    );
    expect(await snapshot(user)).toEqual(before);
  });

  it('refuses a key once it expires with 401 saying that it expired, charging nothing', async () => {
    const user = await world.user({ innovation: 1_000_000n });
    const past = new Date(Date.now() - 1_000);
    await expect(
      createApiKey(database().db, {
        pepper: world.keyPepper,
        orgId: world.orgId,
        userId: user.userId,
        name: 'late',
        expiresAt: past,
        actor: 'test',
      }),
    ).rejects.toThrow(/must be in the future/);
    const expiresAt = new Date(Date.now() + 1_000);
    const { key, secret } = await createApiKey(database().db, {
      pepper: world.keyPepper,
      orgId: world.orgId,
      userId: user.userId,
      name: 'short-lived',
      expiresAt,
      actor: 'test',
    });
    const valid = await client(secret)
      .models.list()
      .then(
        () => undefined,
        (caught: unknown) => caught,
      );
    // Valid until its expiry; the suite may be slow enough that it has passed already.
    if (Date.now() < expiresAt.getTime() - 200) expect(valid).toBeUndefined();
    const before = await snapshot(user);

    const refusal = await refusedWithin(secret, expiresAt.getTime() - Date.now() + propagationMsMax);
    expect(refusal).toBeInstanceOf(OpenAI.AuthenticationError);
    expect(Date.now()).toBeGreaterThanOrEqual(expiresAt.getTime());
    const error = await chat(secret);
    expect(error).toMatchObject({ status: 401, error: { type: 'authentication_error', code: 'invalid_api_key' } });
    expect(error?.message).toContain(`API key ${key.id} expired at ${expiresAt.toISOString()}`);
    expect(await snapshot(user)).toEqual(before);
  });

  it('refuses a key without the inference scope with 403, charging nothing', async () => {
    const user = await world.user({ innovation: 1_000_000n, priority: 10_000n });
    const { secret } = await createApiKey(database().db, {
      pepper: world.keyPepper,
      orgId: world.orgId,
      userId: user.userId,
      name: 'api only',
      scopes: ['api'],
      actor: 'test',
    });
    const before = await snapshot(user);
    const error = await chat(secret);
    expect(error).toBeInstanceOf(OpenAI.PermissionDeniedError);
    expect(error).toMatchObject({ status: 403, error: { type: 'permission_error', code: 'forbidden' } });
    expect(error?.message).toMatch(/no inference scope/);
    const legacy = await client(secret)
      .completions.create({ model: testModel, prompt: 'x', max_tokens: 4 })
      .catch((caught: unknown) => caught);
    expect(legacy).toMatchObject({ status: 403 });
    expect(await snapshot(user)).toEqual(before);
    // The user's own inference key still works: the refusal was about the key, not the wallet.
    expect(await chat(user.apiKey)).toBeUndefined();
  });

  it('keeps a derived key working when its creator is revoked alone, and refuses the chain within the TTL when revoked with cascade', async () => {
    const user = await world.user({ innovation: 1_000_000n });
    const derive = (creatorKeyId: string) =>
      createDerivedApiKey(database().db, {
        pepper: world.keyPepper,
        creatorKeyId,
        orgId: world.orgId,
        userId: user.userId,
        name: 'derived',
        actor: 'test',
      });
    const child = await derive(user.keyId);
    const grandchild = await derive(child.key.id);
    // Warm the cache with every key of the chain.
    for (const apiKey of [user.apiKey, child.secret, grandchild.secret])
      expect((await client(apiKey).models.list()).data).toHaveLength(1);

    // Rotation: the creator alone is revoked; what it created keeps working past the cache TTL.
    await revokeApiKey(database().db, { keyId: user.keyId, actor: 'test' });
    expect(await refusedWithin(user.apiKey, propagationMsMax)).toBeInstanceOf(OpenAI.AuthenticationError);
    expect(await refusedWithin(child.secret, 0)).toBeUndefined();
    expect(await chat(grandchild.secret)).toBeUndefined();

    // Cascading from the already revoked creator reaches both, through the gateway's cache.
    await revokeApiKeyCascade(database().db, { keyId: user.keyId, actor: 'test' });
    const startedAt = Date.now();
    for (const derived of [child, grandchild]) {
      const refusal = await refusedWithin(derived.secret, propagationMsMax - (Date.now() - startedAt));
      expect(refusal).toBeInstanceOf(OpenAI.AuthenticationError);
      expect(refusal?.message).toContain(`API key ${derived.key.id} was revoked at`);
    }
  });

  it('leaves the ledger sound', async () => {
    expect(await checkInvariants(database().db)).toEqual([]);
  });
});
