// The world the GitHub relay's tests run in: a gateway, the API server (webhook receiver), the
// local GitHub, the Temporal dev server with a settlement worker, and teams whose users are linked
// to GitHub logins. Shared by the pull request and push tests.
import type { Worker } from '@temporalio/worker';
import { startApiServer, type RunningApiServer } from '@tokenwise/api';
import { findOrgSlug, linkGithubAccount, type Database } from '@tokenwise/db';
import { scoringConfigs } from '@tokenwise/db/schema';
import { openTestDatabase } from '@tokenwise/db/testing';
import { startGatewayWorld, testModel, waitForUsageRows, type GatewayWorld } from '@tokenwise/gateway/testing';
import { githubCommits, type GithubCommitsConfigInput } from '@tokenwise/plugin-github-commits';
import { startLocalGithub } from '@tokenwise/plugin-github-commits/testing';
import { createSecrets, orgSecretsFromEnv } from '@tokenwise/plugin-sdk';
import { connectTestTemporal } from '@tokenwise/workflows/testing';
import { eq } from 'drizzle-orm';
import type OpenAI from 'openai';
import { expect } from 'vitest';
import { settlementStateQuery } from '../settlement/queries';
import { settlementWorkflowId } from '../settlement/relay';
import { createScoringTeam, settlementDepsFor, until } from '../settlement/test-world';
import { createWorker } from '../worker';
import type { GithubRelayDeps, GithubRelayOutcome } from './relay';

export const relayWebhookSecret = 'whsec-relay-0123456789abcdef';
export const relayGithubToken = 'ghs_relay_installation_token';

/** What the relay did with one row, as `onRow` reports it. */
export type RelayedRow = { evidenceId: string; outcome?: GithubRelayOutcome; deferred?: string };

/**
 * A piece of JSON "code" whose normalised token structure depends on `seed` (literal values and
 * names normalise away, so two completions must differ in shape to be told apart): one line,
 * about 200 code tokens.
 */
export function codeOf(seed: number): Record<string, unknown> {
  let state = seed * 0x9e3779b9;
  // mulberry32: small, and its low bits are as random as its high ones.
  const next = () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) % 6;
  };
  const node = (depth: number): unknown => {
    const pick = depth > 3 ? next() % 3 : next();
    if (pick === 0) return 1;
    if (pick === 1) return 'x';
    if (pick === 2) return null;
    if (pick === 3) return [node(depth + 1), node(depth + 1)];
    if (pick === 4) return { a: node(depth + 1) };
    return { b: node(depth + 1), c: [node(depth + 1)], d: true };
  };
  return Object.fromEntries(Array.from({ length: 16 }, (_, index) => [`k${index}`, node(0)]));
}

/** One request through the gateway whose completion is exactly `code` (structured output), charged and stored. */
export async function codeRequest(database: Database, client: OpenAI, code: Record<string, unknown>) {
  const { data, response } = await client.chat.completions
    .create({
      model: testModel,
      messages: [{ role: 'user', content: 'write the routing table' }],
      response_format: { type: 'json_schema', json_schema: { name: 'code', schema: { const: code } } },
    })
    .withResponse();
  const requestId = response.headers.get('x-request-id') as string;
  await waitForUsageRows(database, { requestId });
  return {
    requestId,
    completion: data.choices[0]?.message.content as string,
    cost: BigInt(response.headers.get('x-tokenwise-cost-innovation') as string),
  };
}

/** GitHub's `patch` of a new file holding `lines`. */
/** Starts the world; `close` stops it all. */
export async function startRelayWorld() {
  const [database, temporal, github] = await Promise.all([
    openTestDatabase('pglite'),
    connectTestTemporal(),
    startLocalGithub(),
  ]);
  const world: GatewayWorld = await startGatewayWorld(database);
  const worker: Worker = await createWorker({
    connection: temporal.workerConnection,
    namespace: temporal.namespace,
    database,
    taskQueue: temporal.taskQueue,
    settlement: settlementDepsFor(world.ledger, [githubCommits]),
  });
  const running = worker.run();
  const api: RunningApiServer = await startApiServer({
    db: database.db,
    ledger: world.ledger,
    keyPepper: world.keyPepper,
    github: { oauthClientId: undefined, webUrl: github.url, apiUrl: github.url, webhookSecret: relayWebhookSecret },
  });
  github.addToken(relayGithubToken, 'tokenwise-bot');

  /** A team of `orgId` scoring with github-commits under `config`, its user linked to `login`. */
  async function linkedTeam(login: string, config: GithubCommitsConfigInput, orgId = world.orgId) {
    const team = await createScoringTeam(database, world, ['github-commits'], orgId);
    await database.db
      .update(scoringConfigs)
      .set({ plugins: [{ pluginId: 'github-commits', weight: 1, config }] })
      .where(eq(scoringConfigs.teamId, team.teamId));
    const linked = await linkGithubAccount(database.db, {
      orgId,
      userId: team.userId,
      login,
      githubUserId: null,
      provenVia: 'admin',
      actor: 'test',
    });
    expect(linked).toHaveProperty('linked');
    return team;
  }

  /** Starts the settlement and waits until the plugin answered pending (its keys indexed, a poll timer set). */
  async function pendingSettlement(requestId: string) {
    const handle = await temporal.client.workflow.start('settleUsage', {
      taskQueue: temporal.taskQueue,
      workflowId: settlementWorkflowId(requestId),
      args: [{ requestId }],
    });
    await until(async () => {
      const history = await handle.fetchHistory();
      return history.events?.some((event) => event.timerStartedEventAttributes) === true ? true : undefined;
    }, `the poll timer of ${requestId}`);
    return handle;
  }

  /** The external evidence a settlement received, rejected and ignored as duplicates. */
  const evidenceOf = async (requestId: string) =>
    (await temporal.client.workflow.getHandle(settlementWorkflowId(requestId)).query(settlementStateQuery)).evidence;

  /** Each org's secrets from `env`, as the worker reads them (startSettlementRuntime's secretsFor). */
  const secretsFrom = (env: Record<string, string>) => {
    const secrets = orgSecretsFromEnv(env);
    return async (orgId: string) => {
      const orgSlug = await findOrgSlug(database.db, { orgId });
      return orgSlug === undefined ? createSecrets({}) : secrets.forOrg(orgSlug);
    };
  };

  /** Relay dependencies that poll every 50 ms, with short GitHub waits, reporting each row into `rows`. */
  const relayDeps = (rows: RelayedRow[], env: Record<string, string> = {}): GithubRelayDeps => ({
    db: database.db,
    client: temporal.client,
    secretsFor: secretsFrom(env),
    intervalMs: 50,
    log: () => {},
    githubOptions: { retryAfterBaseMs: 5 },
    onRow: (row) => rows.push(row),
  });

  return {
    database,
    world,
    temporal,
    github,
    api,
    webhookUrl: `${api.url}/webhooks/github`,
    linkedTeam,
    pendingSettlement,
    evidenceOf,
    secretsFrom,
    relayDeps,
    async close() {
      worker.shutdown();
      await running;
      await api.close();
      await world.close();
      await temporal.close();
      await github.close();
      await database.close();
    },
  };
}

export type RelayWorld = Awaited<ReturnType<typeof startRelayWorld>>;
