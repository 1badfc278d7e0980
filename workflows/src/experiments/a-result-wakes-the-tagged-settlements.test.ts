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
import type { PluginOutcomeRecord, SettlementResult } from '../settlement/types';
import { startExperimentsRelay } from './relay';

async function taggedRequest(database: Database, client: OpenAI, experiment: string) {
  const { response } = await client.chat.completions
    .create(
      { model: testModel, messages: [{ role: 'user', content: 'write the checkout button copy' }] },
      { headers: { 'x-tokenwise-experiment': experiment } },
    )
    .withResponse();
  const requestId = response.headers.get('x-request-id') as string;
  await waitForUsageRows(database, { requestId });
  return { requestId, cost: BigInt(response.headers.get('x-tokenwise-cost-innovation') as string) };
}

describe('a submitted A/B result wakes the settlements of the requests tagged with its experiment', () => {
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

  const startSettlement = (requestId: string) =>
    temporal.client.workflow.start('settleUsage', {
      taskQueue: temporal.taskQueue,
      workflowId: settlementWorkflowId(requestId),
      args: [{ requestId }],
    });
  const waitingOnTimer = (requestId: string) =>
    until(async () => {
      const history = await temporal.client.workflow.getHandle(settlementWorkflowId(requestId)).fetchHistory();
      return history.events?.some((event) => event.timerStartedEventAttributes) === true ? true : undefined;
    }, `the poll timer of ${requestId}`);

  it('scores the assigned user, refuses the unassigned one, skips closed and unstarted settlements, and relays each result once', async () => {
    const ada = await createScoringTeam(database, world, ['ab-results']);
    const bob = await createScoringTeam(database, world, ['ab-results']);
    const admin = await createUser(database.db, {
      actor: 'test',
      input: { orgId: world.orgId, email: 'admin@exp.test', displayName: 'Admin', roles: ['admin'] },
    });
    const startedAt = new Date(Date.now() - 60_000).toISOString();
    const adaBlue = await taggedRequest(database, ada.client, 'checkout-button:blue');
    const bobBlue = await taggedRequest(database, bob.client, 'checkout-button:blue');
    const adaControl = await taggedRequest(database, ada.client, 'checkout-button:control');
    const neverStarted = await taggedRequest(database, ada.client, 'checkout-button:blue');
    const handles = await Promise.all(
      [adaBlue, bobBlue, adaControl].map(({ requestId }) => startSettlement(requestId)),
    );
    await Promise.all([waitingOnTimer(adaBlue.requestId), waitingOnTimer(bobBlue.requestId)]);
    // A control request earns nothing and settles at once: its settlement is closed when the result comes.
    expect(((await handles[2]!.result()) as SettlementResult).status).toBe('settled');

    const { key } = await createExperimentsServiceKey(database.db, {
      pepper: world.keyPepper,
      orgId: world.orgId,
      adminUserId: admin.id,
      name: 'growthbook',
      actor: 'test',
    });
    const submission = {
      resultId: 'checkout-button-final',
      experimentKey: 'checkout-button',
      metricId: 'revenue',
      higherIsBetter: true,
      startedAt,
      variations: [
        { key: 'control', summary: revenuePerUser.control },
        { key: 'blue', summary: revenuePerUser.treatment },
      ],
      assignments: { blue: [ada.userId] },
    };
    const service = { keyId: key.id, orgId: world.orgId };
    await submitExperimentResults(database.db, { service, input: submission });

    const relay = startExperimentsRelay({ db: database.db, client: temporal.client, intervalMs: 50, pageMax: 2 });
    try {
      const adaResult = (await handles[0]!.result()) as SettlementResult;
      expect(adaResult).toMatchObject({ status: 'settled', refund: expectedRefund(adaBlue.cost) });
      expect(adaResult.score).toBeCloseTo(revenuePerUser.gbstats.bayesian.chanceToWin, 6);
      const bobResult = (await handles[1]!.result()) as SettlementResult;
      expect(bobResult.score).toBeUndefined();
      expect(bobResult.refund ?? 0n).toBe(0n);
      const [bobOutcome] = (await settlementTrace(database, bobBlue.requestId)).rows[0]
        ?.results as PluginOutcomeRecord[];
      expect(bobOutcome).toMatchObject({
        pluginId: 'ab-results',
        status: 'not_applicable',
        reason: expect.stringMatching(/assign/i),
      });

      const relayed = await until(async () => {
        const row = await findExperimentResult(database.db, { orgId: world.orgId, resultId: submission.resultId });
        return row?.relayedAt === null ? undefined : row;
      }, 'the result relayed');
      // Ada's and Bob's blue requests were signalled; the closed control settlement and the never started one skipped.
      expect(relayed).toMatchObject({ signalledSettlements: 2, skippedSettlements: 2 });
      expect(relayed.cursorRequestId).not.toBeNull();
      const [row] = await database.db.select().from(outbox).where(eq(outbox.requestId, relayed.id));
      expect(row?.deliveredAt).not.toBeNull();
      expect(neverStarted.requestId).not.toBe(adaBlue.requestId);

      // Redelivery of the same result stores nothing new and wakes nothing.
      expect(await submitExperimentResults(database.db, { service, input: submission })).toMatchObject({
        stored: 'duplicate',
      });
      expect(await relay.runOnce()).toBe(0);
    } finally {
      await relay.stop();
    }
  });
});
