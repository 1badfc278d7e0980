import type { Worker } from '@temporalio/worker';
import { startApiServer, type RunningApiServer } from '@tokenwise/api';
import { createOrg, findOrgSlug, linkGithubAccount, pendingOutboxRows, type Database } from '@tokenwise/db';
import { outbox, scoringConfigs } from '@tokenwise/db/schema';
import { openTestDatabase } from '@tokenwise/db/testing';
import { startGatewayWorld, testModel, waitForUsageRows, type GatewayWorld } from '@tokenwise/gateway/testing';
import { githubCommits, type GithubCommitsConfigInput } from '@tokenwise/plugin-github-commits';
import {
  deliverWebhook,
  fakeSha,
  startLocalGithub,
  type GithubPull,
  type GithubRepo,
  type LocalGithub,
} from '@tokenwise/plugin-github-commits/testing';
import { createSecrets, orgSecretsFromEnv, orgSecretVariable } from '@tokenwise/plugin-sdk';
import { connectTestTemporal, type TestTemporal } from '@tokenwise/workflows/testing';
import { eq } from 'drizzle-orm';
import type OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { settlementStateQuery } from '../settlement/queries';
import { settlementWorkflowId } from '../settlement/relay';
import { createScoringTeam, expectedRefund, settlementDepsFor, settlementTrace, until } from '../settlement/test-world';
import type { SettlementResult } from '../settlement/types';
import { createWorker } from '../worker';
import { startGithubRelay, type GithubRelayDeps, type GithubRelayOutcome } from './relay';

const webhookSecret = 'whsec-relay-0123456789abcdef';
const token = 'ghs_relay_installation_token';

/**
 * A piece of JSON "code" whose normalised token structure depends on `seed` (literal values and
 * names normalise away, so two completions must differ in shape to be told apart): one line,
 * about 200 code tokens.
 */
function codeOf(seed: number): Record<string, unknown> {
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
async function codeRequest(database: Database, client: OpenAI, code: Record<string, unknown>) {
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
const newFilePatch = (lines: string[]) =>
  `@@ -0,0 +1,${lines.length} @@\n${lines.map((line) => `+${line}`).join('\n')}`;

/** The `pull_request` closed-and-merged delivery GitHub sends for `pull`. */
function mergedPullPayload(repo: GithubRepo, pull: GithubPull) {
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

describe('a merged pull request wakes the settlements of the code it holds', () => {
  let database: Database;
  let world: GatewayWorld;
  let temporal: TestTemporal;
  let worker: Worker;
  let running: Promise<void>;
  let github: LocalGithub;
  let api: RunningApiServer;

  beforeAll(async () => {
    [database, temporal, github] = await Promise.all([
      openTestDatabase('pglite'),
      connectTestTemporal(),
      startLocalGithub(),
    ]);
    world = await startGatewayWorld(database);
    worker = await createWorker({
      connection: temporal.workerConnection,
      namespace: temporal.namespace,
      database,
      taskQueue: temporal.taskQueue,
      settlement: settlementDepsFor(world.ledger, [githubCommits]),
    });
    running = worker.run();
    api = await startApiServer({
      db: database.db,
      ledger: world.ledger,
      keyPepper: world.keyPepper,
      github: { oauthClientId: undefined, webUrl: github.url, apiUrl: github.url, webhookSecret },
    });
    github.addToken(token, 'tokenwise-bot');
  });
  afterAll(async () => {
    worker?.shutdown();
    await running;
    await api?.close();
    await world?.close();
    await temporal?.close();
    await github?.close();
    await database?.close();
  });

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

  const evidenceOf = async (requestId: string) =>
    (await temporal.client.workflow.getHandle(settlementWorkflowId(requestId)).query(settlementStateQuery)).evidence;

  it('scores and refunds the author’s request, leaves other authors and orgs alone, and wakes nothing twice', async () => {
    const repo = github.addRepo('acme', 'payments');
    github.addRepo('acme', 'ledger');
    const watching = { repositories: ['acme/payments'], baseUrl: github.url, tokenSecret: 'GITHUB_TOKEN' };
    const ada = await linkedTeam('ada-gh', watching);
    // Dora's team counts only a completion merged whole: her half-merged code stays pending.
    const dora = await linkedTeam('dora-gh', { ...watching, minContainment: 1 });
    const carol = await linkedTeam('carol-gh', watching);
    const otherOrg = (await createOrg(database.db, { actor: 'test', input: { slug: 'other-gh', name: 'Other' } })).id;
    // Another org: the same login and the same code, but its teams watch another repository.
    const outsider = await linkedTeam('ada-gh', { ...watching, repositories: ['acme/ledger'] }, otherOrg);

    const adaCode = codeOf(1);
    const adaRequest = await codeRequest(database, ada.client, adaCode);
    const doraRequest = await codeRequest(database, dora.client, codeOf(2));
    const carolRequest = await codeRequest(database, carol.client, codeOf(3));
    const outsiderRequest = await codeRequest(database, outsider.client, adaCode);
    expect(outsiderRequest.completion).toBe(adaRequest.completion);
    const [adaHandle] = await Promise.all(
      [adaRequest, doraRequest, carolRequest, outsiderRequest].map(({ requestId }) => pendingSettlement(requestId)),
    );

    const mergedAt = new Date().toISOString();
    const half = doraRequest.completion.slice(0, Math.floor(doraRequest.completion.length / 2));
    const adaPull = github.addPull(repo, {
      user: 'ada-gh',
      mergedAt,
      mergedBy: 'ada-gh',
      reviews: [{ id: 1, user: 'rev-gh', state: 'APPROVED', submittedAt: mergedAt }],
      commits: [{ sha: fakeSha('ada-1'), message: 'Add the routing table', author: 'ada-gh', authoredAt: mergedAt }],
      files: [{ filename: 'routes/ada.json', status: 'added', patch: newFilePatch([adaRequest.completion]) }],
    });
    const doraPull = github.addPull(repo, {
      user: 'dora-gh',
      mergedAt,
      mergedBy: 'rev-gh',
      files: [{ filename: 'routes/dora.json', status: 'added', patch: newFilePatch([half]) }],
    });
    // Mallory merges Carol's code: it is not Carol's pull request, so it credits nobody.
    const malloryPull = github.addPull(repo, {
      user: 'mallory-gh',
      mergedAt,
      mergedBy: 'rev-gh',
      reviews: [{ id: 2, user: 'rev-gh', state: 'APPROVED', submittedAt: mergedAt }],
      files: [{ filename: 'routes/carol.json', status: 'added', patch: newFilePatch([carolRequest.completion]) }],
    });
    // GitHub answers the first reads of Ada's pull request with 502s, more than the client retries.
    github.failNext(/\/pulls\/1$/, { kind: 'status', status: 502, message: 'Server Error' }, 3);

    const url = `${api.url}/webhooks/github`;
    const first = await deliverWebhook({
      url,
      secret: webhookSecret,
      event: 'pull_request',
      payload: mergedPullPayload(repo, adaPull),
    });
    expect(first.status).toBe(200);
    for (const pull of [doraPull, malloryPull]) {
      const answer = await deliverWebhook({
        url,
        secret: webhookSecret,
        event: 'pull_request',
        payload: mergedPullPayload(repo, pull),
      });
      expect(answer.status).toBe(200);
    }

    const rows: { evidenceId: string; outcome?: GithubRelayOutcome; deferred?: string }[] = [];
    // Each org reads its own secrets, as the worker does (startSettlementRuntime's secretsFor).
    const slug = (await findOrgSlug(database.db, { orgId: world.orgId }))!;
    const secretsFrom = (env: Record<string, string>) => {
      const secrets = orgSecretsFromEnv(env);
      return async (orgId: string) => {
        const orgSlug = await findOrgSlug(database.db, { orgId });
        return orgSlug === undefined ? createSecrets({}) : secrets.forOrg(orgSlug);
      };
    };
    const relayDeps: GithubRelayDeps = {
      db: database.db,
      client: temporal.client,
      secretsFor: secretsFrom({}),
      intervalMs: 50,
      log: () => {},
      githubOptions: { retryAfterBaseMs: 5 },
      onRow: (row) => rows.push(row),
    };
    // Without the token the rows wait, saying which variable to set, and stay in the outbox.
    const tokenless = startGithubRelay(relayDeps);
    await until(async () => (rows.length >= 3 ? true : undefined), 'the tokenless relay to try every row');
    await tokenless.stop();
    expect(rows.map((row) => row.deferred)).toEqual(
      Array.from({ length: 3 }, () => expect.stringContaining(orgSecretVariable(slug, 'GITHUB_TOKEN'))),
    );
    expect(await pendingOutboxRows(database.db, { kind: 'github_evidence', limit: 10 })).toHaveLength(3);
    rows.length = 0;

    const startedMs = Date.now();
    // Only the watching org holds a token: the other org's variable would not be read for it.
    const relay = startGithubRelay({
      ...relayDeps,
      secretsFor: secretsFrom({ [orgSecretVariable(slug, 'GITHUB_TOKEN')]: token }),
    });
    try {
      const adaResult = (await adaHandle!.result()) as SettlementResult;
      expect(Date.now() - startedMs).toBeLessThan(8_000);
      expect(adaResult).toMatchObject({ status: 'settled', score: 1, refund: expectedRefund(adaRequest.cost) });
      await until(
        async () => (rows.filter((row) => row.outcome !== undefined).length === 3 ? true : undefined),
        'every row relayed',
      );
      // The 502s made the first attempt wait; the row was tried again, not lost.
      expect(rows.find((row) => row.deferred !== undefined)?.deferred).toMatch(/502|Server Error/);
      const relayed = rows.flatMap((row) => (row.outcome === undefined ? [] : [row]));
      // Ada's pull request signalled Ada (settled), Dora's Dora (half her code), Mallory's nobody.
      expect(relayed.map((row) => row.outcome).sort((a, b) => a!.signalled - b!.signalled)).toEqual([
        { signalled: 0, skipped: 0 },
        { signalled: 1, skipped: 0 },
        { signalled: 1, skipped: 0 },
      ]);
      const dora = await evidenceOf(doraRequest.requestId);
      expect(dora.received).toHaveLength(1);
      expect(dora.received[0]?.payload).toMatchObject({
        requestId: doraRequest.requestId,
        pull: { number: doraPull.number },
      });
      expect((dora.received[0]?.payload as { containment: number }).containment).toBeLessThan(1);
      for (const untouched of [carolRequest, outsiderRequest]) {
        expect(await evidenceOf(untouched.requestId)).toMatchObject({ received: [], rejected: [] });
      }

      // The same delivery again is refused at the door; the same merge under a new delivery id is
      // relayed again but wakes nothing: Dora's settlement counts it as a duplicate, Ada's is closed.
      const again = await deliverWebhook({
        url,
        secret: webhookSecret,
        event: 'pull_request',
        payload: mergedPullPayload(repo, adaPull),
        deliveryId: first.deliveryId,
      });
      expect(again.status).toBe(200);
      rows.length = 0;
      for (const pull of [adaPull, doraPull]) {
        const redelivered = await deliverWebhook({
          url,
          secret: webhookSecret,
          event: 'pull_request',
          payload: mergedPullPayload(repo, pull),
        });
        expect(redelivered.status).toBe(200);
      }
      await until(
        async () => (rows.filter((row) => row.outcome !== undefined).length === 2 ? true : undefined),
        'the redeliveries',
      );
      expect(rows.map((row) => row.outcome)).toEqual([
        { signalled: 0, skipped: 1 },
        { signalled: 1, skipped: 0 },
      ]);
      expect(await evidenceOf(doraRequest.requestId)).toMatchObject({ duplicatesIgnored: 1 });
      expect((await evidenceOf(doraRequest.requestId)).received).toHaveLength(1);
      const trace = await settlementTrace(database, adaRequest.requestId);
      expect(trace.rows).toHaveLength(1);
      expect(trace.transfers.filter((transfer) => transfer.code === 'refund')).toHaveLength(1);
      const undelivered = await database.db.select().from(outbox).where(eq(outbox.kind, 'github_evidence'));
      expect(undelivered.every((row) => row.deliveredAt !== null)).toBe(true);
    } finally {
      await relay.stop();
    }
  });
});
