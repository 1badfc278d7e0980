import { createOrg, createTeam, createUser, type Backend, type Database, type Db, type User } from '@tokenwise/db';
import { settlements, usageRecords } from '@tokenwise/db/schema';
import { createApiKey, type CreateApiKeyParams } from '@tokenwise/control';
import { createLedger } from '@tokenwise/ledger';
import { openTestDatabase } from '@tokenwise/db/testing';
import { randomBytes } from 'node:crypto';
import { expect } from 'vitest';
import { createContextInner } from './context';
import { invalidFields } from './errors';
import { createCaller } from './router';

/** An org with two teams and a user per role, plus a second org, on a fresh database (PGlite by default). */
export async function openApiFixture(backend: Backend = 'pglite') {
  const database = await openTestDatabase(backend);
  const fixture = await seedApiFixture(database);
  return {
    ...fixture,
    async close() {
      await fixture.ledger.close();
      await database.close();
    },
  };
}

/** The same world in a database someone else opened and closes; org slugs are fresh, so it can be seeded twice. */
export async function seedApiFixture(database: Database) {
  const db = database.db;
  const suffix = randomBytes(3).toString('hex');
  const ledger = createLedger({ db, hmacKey: randomBytes(32) });
  const keyPepper = randomBytes(32);
  const org = await createOrg(db, { actor: 'test', input: { slug: `acme-${suffix}`, name: 'Acme' } });
  const eng = await createTeam(db, { actor: 'test', input: { orgId: org.id, slug: 'eng', name: 'Engineering' } });
  const ops = await createTeam(db, { actor: 'test', input: { orgId: org.id, slug: 'ops', name: 'Operations' } });
  const person = (email: string, teamId: string | null, roles: User['roles']) =>
    createUser(db, {
      actor: 'test',
      input: { orgId: org.id, teamId, email, displayName: email.split('@')[0] ?? email, roles },
    });
  const users = {
    employee: await person('emma@acme.test', eng.id, ['employee']),
    colleague: await person('carl@acme.test', eng.id, ['employee']),
    lead: await person('lea@acme.test', eng.id, ['employee', 'lead']),
    esg: await person('esther@acme.test', null, ['esg']),
    admin: await person('ada@acme.test', ops.id, ['admin']),
    opsEmployee: await person('otto@acme.test', ops.id, ['employee']),
  };
  const other = await createOrg(db, { actor: 'test', input: { slug: `globex-${suffix}`, name: 'Globex' } });
  const otherAdmin = await createUser(db, {
    actor: 'test',
    input: { orgId: other.id, email: 'gina@globex.test', displayName: 'Gina', roles: ['admin'] },
  });
  const deps = { db, ledger, keyPepper };
  /** A caller acting as `user`; with `keyId`, as if it authenticated with that key (the key it derives its own keys from). */
  const as = async (user: User, keyId: string | null = null) =>
    createCaller(
      await createContextInner({
        ...deps,
        user: { userId: user.id, orgId: user.orgId, teamId: user.teamId, roles: user.roles },
        keyId,
      }),
    );
  /** A key of `user` as an admin makes it with the CLI (inference and api unless `options` say otherwise), and a caller using it. */
  const withKey = async (
    user: User,
    options: Partial<Omit<CreateApiKeyParams, 'pepper' | 'orgId' | 'userId' | 'actor'>> = {},
  ) => {
    const { key, secret } = await createApiKey(db, {
      pepper: keyPepper,
      orgId: user.orgId,
      userId: user.id,
      name: 'cli key',
      scopes: ['inference', 'api'],
      actor: 'cli:test',
      ...options,
    });
    return { key, secret, caller: await as(user, key.id) };
  };
  return {
    database,
    db,
    ledger,
    keyPepper,
    org,
    teams: { eng, ops },
    users,
    otherAdmin,
    as,
    withKey,
    anonymous: async () => createCaller(await createContextInner(deps)),
  };
}

export type ApiFixture = Awaited<ReturnType<typeof openApiFixture>>;

let requestCounter = 0;

/** One usage row (and its settlement when `score` is given), as the gateway and worker would write them. */
export async function insertUsage(
  db: Db,
  params: {
    user: User;
    model?: string;
    promptTokens?: number;
    completionTokens?: number;
    cost?: bigint;
    createdAt?: Date;
    score?: number;
    requestId?: string;
    keyId?: string;
    sessionId?: string;
    experiment?: { experimentKey: string; variantKey: string };
  },
): Promise<string> {
  requestCounter += 1;
  const requestId = params.requestId ?? `req-${String(requestCounter).padStart(6, '0')}`;
  await db.insert(usageRecords).values({
    requestId,
    orgId: params.user.orgId,
    userId: params.user.id,
    teamId: params.user.teamId,
    keyId: params.keyId ?? 'aaaaaaaaaaaa',
    model: params.model ?? 'llama-8b',
    cluster: 'local',
    replica: 'r0',
    tier: 'standard',
    promptTokens: params.promptTokens ?? 100,
    completionTokens: params.completionTokens ?? 900,
    currency: 'innovation',
    cost: params.cost ?? 1_000n,
    priceListVersion: 1,
    latencyMs: 50,
    co2eMicrograms: 1_500_000n,
    energyMicroWh: 10_000n,
    system: false,
    outcome: 'completed',
    sessionId: params.sessionId ?? null,
    experimentKey: params.experiment?.experimentKey ?? null,
    variantKey: params.experiment?.variantKey ?? null,
    createdAt: params.createdAt ?? new Date(Date.UTC(2026, 10, 1) + requestCounter * 1000),
  });
  if (params.score !== undefined) {
    await db.insert(settlements).values({
      requestId,
      score: params.score,
      confidence: 0.9,
      refund: 100n,
      refundCurrency: 'innovation',
      reward: 0n,
      results: [],
      reason: 'test',
    });
  }
  return requestId;
}

/** The fields a BAD_REQUEST names, as HTTP clients get them in `error.data.fields`. */
export async function fieldsOf(call: Promise<unknown>): Promise<string[]> {
  const error: unknown = await call.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toMatchObject({ code: 'BAD_REQUEST' });
  return invalidFields((error as { cause?: unknown }).cause);
}
