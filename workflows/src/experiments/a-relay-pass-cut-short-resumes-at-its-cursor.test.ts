import { Client, ServiceError, type WorkflowClientInterceptor } from '@temporalio/client';
import type { Worker } from '@temporalio/worker';
import { createExperimentsServiceKey, submitExperimentResults } from '@tokenwise/control';
import { createUser, findExperimentResult, type Database } from '@tokenwise/db';
import { outbox } from '@tokenwise/db/schema';
import { openTestDatabase } from '@tokenwise/db/testing';
import { startGatewayWorld, testModel, waitForUsageRows, type GatewayWorld } from '@tokenwise/gateway/testing';
import { abResults } from '@tokenwise/plugin-ab-results';
import { revenuePerUser } from '@tokenwise/plugin-ab-results/testing';
import { connectTestTemporal, type TestTemporal } from '@tokenwise/workflows/testing';
import { eq } from 'drizzle-orm';
import type OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWorker } from '../worker';
import { settlementWorkflowId } from '../settlement/relay';
import { createScoringTeam, expectedRefund, settlementDepsFor, settlementTrace, until } from '../settlement/test-world';
import type { SettlementResult } from '../settlement/types';
import { startExperimentsRelay } from './relay';

const experimentKey = 'resume-copy';
const pageMax = 3;
const requestCount = 7;

async function taggedRequest(database: Database, client: OpenAI) {
  const { response } = await client.chat.completions
    .create(
      { model: testModel, messages: [{ role: 'user', content: 'write the banner copy' }] },
      { headers: { 'x-tokenwise-experiment': `${experimentKey}:bold` } },
    )
    .withResponse();
  const requestId = response.headers.get('x-request-id') as string;
  await waitForUsageRows(database, { requestId });
  return { requestId, cost: BigInt(response.headers.get('x-tokenwise-cost-innovation') as string) };
}

/**
 * A client to the real dev server on which Temporal becomes unreachable after `signalsBeforeOutage`
 * signals, until `heal()`: signals then fail as a refused connection does, with a ServiceError.
 */
function clientWithOutage(temporal: TestTemporal, signalsBeforeOutage: number) {
  let signals = 0;
  let healed = false;
  let refused = 0;
  const outage: WorkflowClientInterceptor = {
    async signal(input, next) {
      signals++;
      if (!healed && signals > signalsBeforeOutage) {
        refused++;
        throw new ServiceError('14 UNAVAILABLE: No connection established (an outage this test causes)');
      }
      return next(input);
    },
  };
  const client = new Client({
    connection: temporal.client.connection,
    namespace: temporal.namespace,
    interceptors: { workflow: [outage] },
  });
  return { client, refused: () => refused, heal: () => (healed = true) };
}

describe('an experiments relay pass cut short resumes at its cursor', () => {
  let database: Database;
  let world: GatewayWorld;
  let temporal: TestTemporal;
  let worker: Worker;
  let running: Promise<void>;

  beforeAll(async () => {
    [database, temporal] = await Promise.all([openTestDatabase('pglite'), connectTestTemporal()]);
    world = await startGatewayWorld(database);
    worker = await createWorker({
      connection: temporal.workerConnection,
      namespace: temporal.namespace,
      database,
      taskQueue: temporal.taskQueue,
      settlement: settlementDepsFor(world.ledger, [abResults]),
    });
    running = worker.run();
  });
  afterAll(async () => {
    worker?.shutdown();
    await running;
    await world?.close();
    await temporal?.close();
    await database?.close();
  });

  const handleOf = (requestId: string) => temporal.client.workflow.getHandle(settlementWorkflowId(requestId));
  const waitingOnTimer = (requestId: string) =>
    until(async () => {
      const history = await handleOf(requestId).fetchHistory();
      return history.events?.some((event) => event.timerStartedEventAttributes) === true ? true : undefined;
    }, `the poll timer of ${requestId}`);

  it('Temporal lost in the second page: the first page stays done, the outbox row waits, and a restarted relay wakes every settlement once', async () => {
    const team = await createScoringTeam(database, world, ['ab-results']);
    const admin = await createUser(database.db, {
      actor: 'test',
      input: { orgId: world.orgId, email: 'admin@resume.test', displayName: 'Admin', roles: ['admin'] },
    });
    const startedAt = new Date(Date.now() - 60_000).toISOString();
    const requests: { requestId: string; cost: bigint }[] = [];
    for (let i = 0; i < requestCount; i++) requests.push(await taggedRequest(database, team.client));
    requests.sort((a, b) => (a.requestId < b.requestId ? -1 : 1));
    await Promise.all(
      requests.map(({ requestId }) =>
        temporal.client.workflow.start('settleUsage', {
          taskQueue: temporal.taskQueue,
          workflowId: settlementWorkflowId(requestId),
          args: [{ requestId }],
        }),
      ),
    );
    await Promise.all(requests.map(({ requestId }) => waitingOnTimer(requestId)));

    const { key } = await createExperimentsServiceKey(database.db, {
      pepper: world.keyPepper,
      orgId: world.orgId,
      adminUserId: admin.id,
      name: 'growthbook',
      actor: 'test',
    });
    const submission = {
      resultId: 'resume-final',
      experimentKey,
      metricId: 'revenue',
      higherIsBetter: true,
      startedAt,
      variations: [
        { key: 'control', summary: revenuePerUser.control },
        { key: 'bold', summary: revenuePerUser.treatment },
      ],
      assignments: { bold: [team.userId] },
    };
    await submitExperimentResults(database.db, { service: { keyId: key.id, orgId: world.orgId }, input: submission });
    const stored = () => findExperimentResult(database.db, { orgId: world.orgId, resultId: submission.resultId });

    // The first page and one signal of the second get through; then Temporal is unreachable.
    const faulty = clientWithOutage(temporal, pageMax + 1);
    const first = startExperimentsRelay({
      db: database.db,
      client: faulty.client,
      intervalMs: 50,
      pageMax,
      log: () => {},
    });
    await until(async () => (faulty.refused() >= 2 ? true : undefined), 'the relay to meet the outage', 200, 25);
    await first.stop();

    const cut = await stored();
    expect(cut).toMatchObject({
      cursorRequestId: requests[pageMax - 1]!.requestId,
      signalledSettlements: pageMax,
      skippedSettlements: 0,
      relayedAt: null,
    });
    const [pending] = await database.db.select().from(outbox).where(eq(outbox.requestId, cut!.id));
    expect(pending?.deliveredAt).toBeNull();
    // Past the one signal that got through, the settlements still wait for their evidence.
    for (const { requestId } of requests.slice(pageMax + 1))
      expect((await handleOf(requestId).describe()).status.name).toBe('RUNNING');

    // The process restarts with Temporal back: the pass resumes at the cursor and finishes.
    faulty.heal();
    const second = startExperimentsRelay({ db: database.db, client: temporal.client, intervalMs: 50, pageMax });
    try {
      const relayed = await until(async () => {
        const row = await stored();
        return row?.relayedAt === null ? undefined : row;
      }, 'the result relayed');
      for (const { requestId, cost } of requests) {
        const settled = (await handleOf(requestId).result()) as SettlementResult;
        expect(settled).toMatchObject({ status: 'settled', refund: expectedRefund(cost) });
        const trace = await settlementTrace(database, requestId);
        expect(trace.rows).toHaveLength(1);
        expect(trace.transfers).toHaveLength(1);
      }
      expect(relayed.cursorRequestId).toBe(requests.at(-1)!.requestId);
      // Each tagged request is counted once: the second page's counts were never written by the cut pass.
      expect(relayed.signalledSettlements + relayed.skippedSettlements).toBe(requestCount);
      expect(relayed.skippedSettlements).toBeLessThanOrEqual(1);
      const [delivered] = await database.db.select().from(outbox).where(eq(outbox.requestId, relayed.id));
      expect(delivered?.deliveredAt).not.toBeNull();
      expect(await second.runOnce()).toBe(0);
    } finally {
      await second.stop();
    }
  });
});
