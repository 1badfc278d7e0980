import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import type { Database } from '@tokenwise/db';
import { startGatewayWorld, type GatewayWorld } from '@tokenwise/gateway/testing';
import { definePlugin } from '@tokenwise/plugin-sdk';
import { openTestDatabase } from '@tokenwise/db/testing';
import { createTimeSkippingEnvironment } from '@tokenwise/workflows/testing';
import { z } from 'zod';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWorker } from '../worker';
import { settlementWorkflowId } from './relay';
import {
  chargedRequest,
  createScoringTeam,
  expectedRefund,
  settlementDepsFor,
  settlementTrace,
  walletFunds,
} from './test-world';
import type { PluginOutcomeRecord, SettlementResult } from './types';

const day = 24 * 60 * 60;
const hour = 60 * 60;
/** Polls after which the fake external evidence (an A/B result, say) appears. */
const pollsUntilEvidence = 5;

/** A plugin waiting on external evidence: `pending` on each poll until `evidenceAfterPolls` (never, if undefined). */
function evidencePlugin(
  id: string,
  windowSeconds: number,
  pollSeconds: number,
  evidenceAfterPolls: number | undefined,
) {
  const calls = { count: 0 };
  const plugin = definePlugin({
    id,
    version: '1.0.0',
    configSchema: z.object({}),
    evidenceWindowSeconds: windowSeconds,
    pollIntervalSeconds: pollSeconds,
    score: async () => {
      calls.count++;
      if (evidenceAfterPolls === undefined || calls.count < evidenceAfterPolls)
        return { status: 'pending', reason: `no evidence yet (poll ${calls.count})` };
      return {
        status: 'scored',
        score: 0.75,
        confidence: 0.9,
        evidence: { polls: calls.count },
        rationale: 'the experiment came back positive',
      };
    },
  });
  return { plugin, calls };
}

/** Each poll adds a bounded number of events (activity, timer, workflow tasks); the window's length adds none. */
const historyEventsMax = (polls: number) => 20 + 12 * polls;

describe('a plugin with a 7-day evidence window, on the time-skipping server', () => {
  let env: TestWorkflowEnvironment;
  let database: Database;
  let world: GatewayWorld;
  let worker: Worker;
  let running: Promise<void>;
  const slow = evidencePlugin('slow-evidence', 7 * day, hour, pollsUntilEvidence);
  const never = evidencePlugin('never-evidence', 7 * day, day, undefined);
  const taskQueue = 'long-evidence-window';

  beforeAll(async () => {
    [env, database] = await Promise.all([createTimeSkippingEnvironment(), openTestDatabase('pglite')]);
    world = await startGatewayWorld(database);
    worker = await createWorker({
      connection: env.nativeConnection,
      namespace: env.namespace ?? 'default',
      database,
      taskQueue,
      settlement: settlementDepsFor(world.ledger, [slow.plugin, never.plugin]),
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

  const settle = async (requestId: string) => {
    const handle = await env.client.workflow.start('settleUsage', {
      taskQueue,
      workflowId: settlementWorkflowId(requestId),
      args: [{ requestId }],
    });
    const result = (await handle.result()) as SettlementResult;
    const history = await handle.fetchHistory();
    return { result, events: history.events?.length ?? 0 };
  };

  it('polls on durable timers until the evidence appears, then settles with its score, in bounded history', async () => {
    const team = await createScoringTeam(database, world, ['slow-evidence']);
    const { requestId, cost } = await chargedRequest(database, team.client);
    const serverTimeBeforeMs = await env.currentTimeMs();

    const { result, events } = await settle(requestId);

    expect(result).toMatchObject({ status: 'settled', score: 0.75, confidence: 0.9, refund: expectedRefund(cost) });
    expect(slow.calls.count).toBe(pollsUntilEvidence);
    expect((await env.currentTimeMs()) - serverTimeBeforeMs).toBeGreaterThanOrEqual(
      (pollsUntilEvidence - 1) * hour * 1000,
    );
    const trace = await settlementTrace(database, requestId);
    expect(trace.rows).toHaveLength(1);
    expect(trace.rows[0]?.results).toEqual([
      expect.objectContaining({
        pluginId: 'slow-evidence',
        status: 'scored',
        score: 0.75,
        attempts: pollsUntilEvidence,
      }),
    ]);
    expect((await world.ledger.balance(team.walletId)).posted).toBe(walletFunds - cost + expectedRefund(cost));
    expect(events).toBeLessThan(historyEventsMax(pollsUntilEvidence));
  });

  it('records a plugin still pending when its window closes as not_applicable, and completes the settlement', async () => {
    const team = await createScoringTeam(database, world, ['never-evidence']);
    const { requestId, cost } = await chargedRequest(database, team.client);
    const serverTimeBeforeMs = await env.currentTimeMs();

    const { result, events } = await settle(requestId);

    // No score: nothing is refunded, but the settlement is recorded and done.
    expect(result).toMatchObject({ status: 'settled', refund: 0n });
    expect(result.score).toBeUndefined();
    const polls = never.calls.count;
    expect(polls).toBeGreaterThanOrEqual(7);
    expect(polls).toBeLessThanOrEqual(8);
    expect((await env.currentTimeMs()) - serverTimeBeforeMs).toBeGreaterThanOrEqual((polls - 1) * day * 1000);
    const trace = await settlementTrace(database, requestId);
    expect(trace.rows).toHaveLength(1);
    const [outcome] = trace.rows[0]?.results as PluginOutcomeRecord[];
    expect(outcome).toMatchObject({
      pluginId: 'never-evidence',
      status: 'not_applicable',
      attempts: polls,
      reason: expect.stringMatching(/evidence window closed/),
    });
    expect(trace.transfers).toEqual([]);
    expect((await world.ledger.balance(team.walletId)).posted).toBe(walletFunds - cost);
    expect(events).toBeLessThan(historyEventsMax(polls));
  });
});
