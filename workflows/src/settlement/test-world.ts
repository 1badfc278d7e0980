// Shared by the settlement resilience tests: a team with scoring plugins and a refund policy, and
// charged requests made through the real gateway, so every row looks exactly like production's.
import { createTeam, createUser, type Database } from '@tokenwise/db';
import { ledgerTransfers, scoringConfigs, settlementPolicies, settlements } from '@tokenwise/db/schema';
import { createApiKey, createRuntimeKeys } from '@tokenwise/control';
import { testModel, waitForUsageRows, type GatewayWorld } from '@tokenwise/gateway/testing';
import { getTransfer, type Ledger } from '@tokenwise/ledger';
import { createGatewayLlmClient, type PluginDefinition } from '@tokenwise/plugin-sdk';
import { createTestContext } from '@tokenwise/plugin-sdk/testing';
import { and, eq, inArray, sql } from 'drizzle-orm';
import OpenAI from 'openai';
import { randomUUID } from 'node:crypto';
import type { SettlementDeps } from './activities';
import { openTestDatabase } from '@tokenwise/db/testing';
import { connectTestTemporal, type TestTemporal } from '@tokenwise/workflows/testing';
import { startGatewayWorld } from '@tokenwise/gateway/testing';
import type { Worker } from '@temporalio/worker';
import { createWorker } from '../worker';

/** Funds granted to each test user's wallet, in minor units. */
export const walletFunds = 1_000_000n;
/** The share refunded by every test team's policy (the org's default bound is 5,000 bps too). */
export const refundShareBps = 5_000n;

export interface ScoringTeam {
  teamId: string;
  userId: string;
  walletId: string;
  client: OpenAI;
}

/** Polls `probe` until it returns a value; bounded, so a lost settlement fails the test instead of hanging it. */
export async function until<T>(
  probe: () => Promise<T | undefined>,
  what: string,
  attemptsMax = 1_200,
  intervalMs = 50,
): Promise<T> {
  for (let attempt = 0; attempt < attemptsMax; attempt++) {
    const value = await probe();
    if (value !== undefined) return value;
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
  throw new Error(`gave up waiting for ${what}`);
}

/** A team whose scoring config enables `pluginIds` (weight 1 each) and whose policy v1 refunds 50% from a score of 0.5. */
export async function createScoringTeam(
  database: Database,
  world: GatewayWorld,
  pluginIds: string[],
  orgId = world.orgId,
): Promise<ScoringTeam> {
  const db = database.db;
  const suffix = randomUUID().slice(0, 8);
  const team = await createTeam(db, {
    actor: 'test',
    input: { orgId, slug: `team-${suffix}`, name: `Team ${suffix}` },
  });
  const user = await createUser(db, {
    actor: 'test',
    input: { orgId, teamId: team.id, email: `dev-${suffix}@test.example`, displayName: 'Dev' },
  });
  await db.insert(scoringConfigs).values({
    teamId: team.id,
    version: 1,
    createdBy: 'lead',
    plugins: pluginIds.map((pluginId) => ({ pluginId, weight: 1, config: {} })),
  });
  await db.insert(settlementPolicies).values({
    teamId: team.id,
    version: 1,
    createdBy: 'lead',
    body: { refunds: [{ minScore: 0.5, shareBps: Number(refundShareBps) }] },
  });
  const wallet = await world.ledger.ensureAccount({
    ownerType: 'user',
    ownerId: user.id,
    orgId,
    currency: 'innovation',
    purpose: 'wallet',
  });
  await fund(world.ledger, database, wallet.id);
  const { secret } = await createApiKey(db, {
    pepper: world.keyPepper,
    orgId,
    userId: user.id,
    name: 'dev',
    actor: 'test',
  });
  return {
    teamId: team.id,
    userId: user.id,
    walletId: wallet.id,
    client: new OpenAI({ apiKey: secret, baseURL: `${world.gateway.url}/v1`, maxRetries: 0 }),
  };
}

/** Grants `walletFunds` to a wallet from issuance. */
export async function fund(ledger: Ledger, database: Database, walletId: string): Promise<void> {
  const issuance = await ledger.ensureAccount({
    ownerType: 'system',
    ownerId: 'issuance',
    currency: 'innovation',
    purpose: 'issuance',
  });
  const [result] = await ledger.submit([
    {
      type: 'transfer',
      id: `fund-${walletId}`,
      debitAccountId: issuance.id,
      creditAccountId: walletId,
      amount: walletFunds,
      code: 'grant',
    },
  ]);
  if (result === undefined || !result.ok) throw new Error(`funding ${walletId} failed`);
}

/** One chat completion through the gateway, charged and metered; returns its request id and cost. */
export async function chargedRequest(database: Database, client: OpenAI): Promise<{ requestId: string; cost: bigint }> {
  const { response } = await client.chat.completions
    .create({ model: testModel, messages: [{ role: 'user', content: 'write a function' }] })
    .withResponse();
  const requestId = response.headers.get('x-request-id');
  const cost = response.headers.get('x-tokenwise-cost-innovation');
  if (requestId === null || cost === null) throw new Error('the gateway answered without a request id or cost header');
  await waitForUsageRows(database, { requestId });
  return { requestId, cost: BigInt(cost) };
}

/** The refund the test policy grants for a score of at least 0.5. */
export function expectedRefund(cost: bigint): bigint {
  return (cost * refundShareBps) / 10_000n;
}

/** Settlement dependencies for a worker: the world's ledger (or a wrapper of it) and the given plugins. */
export function settlementDepsFor(
  ledger: Ledger,
  plugins: PluginDefinition[],
  pluginTimeoutMs = 60_000,
): Omit<SettlementDeps, 'db'> {
  return {
    ledger,
    plugins: new Map(plugins.map((plugin) => [plugin.id, plugin])),
    contextFor: () => createTestContext(),
    pluginTimeoutMs,
  };
}

/** What a request's settlement left behind: its settlement rows and every refund or reward transfer naming it. */
export async function settlementTrace(database: Database, requestId: string) {
  const rows = await database.db.select().from(settlements).where(eq(settlements.requestId, requestId));
  const transfers = await database.db
    .select({ id: ledgerTransfers.id, code: ledgerTransfers.code, amount: ledgerTransfers.amount })
    .from(ledgerTransfers)
    .where(
      and(
        inArray(ledgerTransfers.code, ['refund', 'reward']),
        sql`${ledgerTransfers.userData}->>'requestId' = ${requestId}`,
      ),
    );
  return { rows, transfers, refund: await getTransfer(database.db, `refund-${requestId}`) };
}

/** A gateway world on PGlite and a settlement worker with `plugins` on the test Temporal server. */
export interface SettlementWorld {
  database: Database;
  world: GatewayWorld;
  temporal: TestTemporal;
  worker: Worker;
  close(): Promise<void>;
}

/**
 * Plugin contexts whose LLM calls go through the world's gateway as in production: under a key minted
 * for the payer, so the judge's calls are charged to the judge wallet of the org whose request is scored.
 */
export function meteredContexts(world: GatewayWorld, database: Database): SettlementDeps['contextFor'] {
  const keys = createRuntimeKeys({ db: database.db, pepper: world.keyPepper });
  return (_pluginId, payer) =>
    createTestContext({
      llm: createGatewayLlmClient({
        baseUrl: world.gateway.url,
        apiKey: () => keys.keyFor(payer),
        onUnauthorized: () => keys.forget(payer),
        timeoutMs: 30_000,
      }),
    });
}

export async function startSettlementWorld(
  plugins: PluginDefinition[],
  options: {
    metered?: boolean;
    /** The plugins' contexts, made once the world is up (a runtime as production wires it); test contexts otherwise. */
    contextFor?: (world: GatewayWorld, database: Database) => Promise<SettlementDeps['contextFor']>;
  } = {},
): Promise<SettlementWorld> {
  const [database, temporal] = await Promise.all([openTestDatabase('pglite'), connectTestTemporal()]);
  const world = await startGatewayWorld(database);
  const deps = settlementDepsFor(world.ledger, plugins);
  const contextFor =
    options.contextFor !== undefined
      ? await options.contextFor(world, database)
      : options.metered === true
        ? meteredContexts(world, database)
        : deps.contextFor;
  const settlement = { ...deps, contextFor };
  const worker = await createWorker({
    connection: temporal.workerConnection,
    namespace: temporal.namespace,
    database,
    taskQueue: temporal.taskQueue,
    settlement,
  });
  const running = worker.run();
  return {
    database,
    world,
    temporal,
    worker,
    async close() {
      worker.shutdown();
      await running;
      await world.close();
      await temporal.close();
      await database.close();
    },
  };
}
