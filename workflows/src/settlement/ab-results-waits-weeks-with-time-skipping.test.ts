import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { WorkflowHandle } from '@temporalio/client';
import type { Worker } from '@temporalio/worker';
import { SettlementClosedError } from '@tokenwise/core';
import type { Database } from '@tokenwise/db';
import { startGatewayWorld, testModel, waitForUsageRows, type GatewayWorld } from '@tokenwise/gateway/testing';
import { abResults } from '@tokenwise/plugin-ab-results';
import { abEvidence, abPayload } from '@tokenwise/plugin-ab-results/testing';
import { openTestDatabase } from '@tokenwise/db/testing';
import { createTimeSkippingEnvironment } from '@tokenwise/workflows/testing';
import type OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWorker } from '../worker';
import { settlementStateQuery } from './queries';
import { settlementWorkflowId } from './relay';
import { sendExternalEvidence } from './send-external-evidence';
import {
  createScoringTeam,
  expectedRefund,
  settlementDepsFor,
  settlementTrace,
  until,
  walletFunds,
} from './test-world';
import type { PluginOutcomeRecord, SettlementResult } from './types';

const day = 24 * 60 * 60 * 1000;
const windowDays = 30;
/**
 * A waiting settlement adds one daily poll (a timer, a workflow task, a local-activity marker) and
 * nothing else: its history is bounded by the window in days, never by how long it waits in total.
 */
const historyEventsMax = (polls: number) => 20 + 8 * polls;

/** A chat completion tagged with an A/B variant, charged and metered like any other. */
async function taggedRequest(database: Database, client: OpenAI, experiment: string) {
  const { response } = await client.chat.completions
    .create(
      { model: testModel, messages: [{ role: 'user', content: 'write the checkout button copy' }] },
      { headers: { 'x-tokenwise-experiment': experiment } },
    )
    .withResponse();
  const requestId = response.headers.get('x-request-id');
  const cost = response.headers.get('x-tokenwise-cost-innovation');
  if (requestId === null || cost === null) throw new Error('the gateway answered without a request id or cost header');
  await waitForUsageRows(database, { requestId });
  return { requestId, cost: BigInt(cost) };
}

const timersStarted = async (handle: WorkflowHandle) =>
  (await handle.fetchHistory()).events?.filter((event) => event.timerStartedEventAttributes).length ?? 0;

describe('ab-results settlements waiting weeks for an A/B result, on the time-skipping server', () => {
  let env: TestWorkflowEnvironment;
  let database: Database;
  let world: GatewayWorld;
  let worker: Worker;
  let running: Promise<void>;
  const taskQueue = 'ab-results-waits-weeks';

  beforeAll(async () => {
    [env, database] = await Promise.all([createTimeSkippingEnvironment(), openTestDatabase('pglite')]);
    world = await startGatewayWorld(database);
    worker = await createWorker({
      connection: env.nativeConnection,
      namespace: env.namespace ?? 'default',
      database,
      taskQueue,
      settlement: settlementDepsFor(world.ledger, [abResults]),
    });
    running = worker.run();
  });
  afterAll(async () => {
    worker?.shutdown();
    await running;
    await world?.close();
    await env?.teardown();
    await database?.close();
  });

  const start = (requestId: string) =>
    env.client.workflow.start('settleUsage', {
      taskQueue,
      workflowId: settlementWorkflowId(requestId),
      args: [{ requestId }],
    });

  it('holds only a durable timer for 29 days, then scores the result signalled inside the window and refunds', async () => {
    const team = await createScoringTeam(database, world, ['ab-results']);
    const { requestId, cost } = await taggedRequest(database, team.client, 'checkout-button:blue');
    const handle = await start(requestId);
    await until(async () => ((await timersStarted(handle)) === 1 ? true : undefined), 'the first daily timer');

    await env.sleep(29 * day);

    const waiting = await handle.describe();
    expect(waiting.status.name).toBe('RUNNING');
    expect(waiting.raw.pendingActivities ?? []).toEqual([]);
    const history = (await handle.fetchHistory()).events ?? [];
    expect(history.at(-1)?.timerStartedEventAttributes).toBeTruthy();
    // No activity task in all that time: the plugin runs as a local activity once a day.
    expect(history.filter((event) => event.activityTaskScheduledEventAttributes)).toEqual([]);
    expect(history.length).toBeLessThan(historyEventsMax(30));
    const state = await handle.query(settlementStateQuery);
    expect(state.outcomes).toEqual([]);
    expect(state.phase).toBe('scoring');

    await sendExternalEvidence(env.client, requestId, abEvidence(abPayload(), new Date().toISOString()));
    const result = (await handle.result()) as SettlementResult;

    expect(result).toMatchObject({ status: 'settled', refund: expectedRefund(cost) });
    expect(result.score).toBeCloseTo(0.9947640782696718, 9);
    const trace = await settlementTrace(database, requestId);
    const [outcome] = trace.rows[0]?.results as PluginOutcomeRecord[];
    expect(outcome).toMatchObject({
      pluginId: 'ab-results',
      status: 'scored',
      evidence: expect.objectContaining({ resultId: 'res-1', metricId: 'revenue', variantKey: 'blue' }),
    });
    expect(outcome?.attempts).toBeGreaterThanOrEqual(30);
    expect((await world.ledger.balance(team.walletId)).posted).toBe(walletFunds - cost + expectedRefund(cost));
    expect((await handle.fetchHistory()).events?.length).toBeLessThan(historyEventsMax(31));
  });

  it('closes after 30 days without a result, refunding nothing, and a result arriving later changes nothing', async () => {
    const team = await createScoringTeam(database, world, ['ab-results']);
    const { requestId, cost } = await taggedRequest(database, team.client, 'checkout-button:blue');
    const serverTimeBeforeMs = await env.currentTimeMs();
    const handle = await start(requestId);

    const result = (await handle.result()) as SettlementResult;

    expect(result).toMatchObject({ status: 'settled', refund: 0n });
    expect(result.score).toBeUndefined();
    expect((await env.currentTimeMs()) - serverTimeBeforeMs).toBeGreaterThanOrEqual(windowDays * day);
    expect((await handle.fetchHistory()).events?.length).toBeLessThan(historyEventsMax(windowDays + 1));
    const late = sendExternalEvidence(env.client, requestId, abEvidence(abPayload(), new Date().toISOString()));
    await expect(late).rejects.toThrow(SettlementClosedError);
    await expect(late).rejects.toThrow(/arrived too late and was not used/);
    const trace = await settlementTrace(database, requestId);
    expect(trace.rows).toHaveLength(1);
    expect(trace.rows[0]?.results).toEqual([
      expect.objectContaining({
        pluginId: 'ab-results',
        status: 'not_applicable',
        reason: expect.stringMatching(/evidence window closed/),
      }),
    ]);
    expect(trace.transfers).toEqual([]);
    expect((await world.ledger.balance(team.walletId)).posted).toBe(walletFunds - cost);
  });
});
