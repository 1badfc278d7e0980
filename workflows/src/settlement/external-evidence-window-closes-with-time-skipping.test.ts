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
import { settlementStateQuery } from './queries';
import { settlementWorkflowId } from './relay';
import { sendExternalEvidence } from './send-external-evidence';
import { chargedRequest, createScoringTeam, settlementDepsFor, settlementTrace, until } from './test-world';
import type { PluginOutcomeRecord, SettlementResult } from './types';

const hour = 60 * 60;
const windowHours = 24;

/** Waits on external evidence for itself: `pending` until some arrives, then scored. Counts its polls. */
function waitsForEvidence(id: string) {
  const polls = { count: 0 };
  const plugin = definePlugin({
    id,
    version: '1.0.0',
    configSchema: z.object({}),
    evidenceWindowSeconds: windowHours * hour,
    pollIntervalSeconds: hour,
    score: async (input) => {
      polls.count++;
      const evidence = input.externalEvidence ?? [];
      if (evidence.length === 0) return { status: 'pending', reason: 'no A/B result yet' };
      return {
        status: 'scored',
        score: 0.6,
        confidence: 0.7,
        evidence: { evidenceIds: evidence.map((entry) => entry.evidenceId) },
        rationale: 'the experiment came back',
      };
    },
  });
  return { plugin, polls };
}

describe('evidence for one plugin, none for another, over a 24-hour window on the time-skipping server', () => {
  let env: TestWorkflowEnvironment;
  let database: Database;
  let world: GatewayWorld;
  let worker: Worker;
  let running: Promise<void>;
  const answered = waitsForEvidence('ab-answered');
  const silent = waitsForEvidence('ab-silent');
  const taskQueue = 'external-evidence-window';

  beforeAll(async () => {
    [env, database] = await Promise.all([createTimeSkippingEnvironment(), openTestDatabase('pglite')]);
    world = await startGatewayWorld(database);
    worker = await createWorker({
      connection: env.nativeConnection,
      namespace: env.namespace ?? 'default',
      database,
      taskQueue,
      settlement: settlementDepsFor(world.ledger, [answered.plugin, silent.plugin]),
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

  it('scores the plugin whose evidence came, and records the other not_applicable when its window closes', async () => {
    const team = await createScoringTeam(database, world, ['ab-answered', 'ab-silent']);
    const { requestId } = await chargedRequest(database, team.client);
    const serverTimeBeforeMs = await env.currentTimeMs();
    const handle = await env.client.workflow.start('settleUsage', {
      taskQueue,
      workflowId: settlementWorkflowId(requestId),
      args: [{ requestId }],
    });
    // Time stands still until result() is awaited: both plugins polled once and wait on their timers.
    await until(
      async () =>
        (await handle.fetchHistory()).events?.filter((event) => event.timerStartedEventAttributes).length === 2
          ? true
          : undefined,
      'both poll timers',
    );
    await sendExternalEvidence(env.client, requestId, {
      pluginId: 'ab-answered',
      evidenceId: 'exp-3',
      payload: { lift: 0.05 },
      source: 'ab-platform',
      observedAt: '2026-01-01T00:00:00.000Z',
    });

    const result = (await handle.result()) as SettlementResult;

    expect(result).toMatchObject({ status: 'settled', score: 0.6, confidence: 0.7 });
    expect(answered.polls.count).toBe(2);
    // The evidence woke only its own plugin: the other polled hourly until its window closed.
    expect(silent.polls.count).toBe(windowHours + 1);
    expect((await env.currentTimeMs()) - serverTimeBeforeMs).toBeGreaterThanOrEqual(windowHours * hour * 1000);
    const trace = await settlementTrace(database, requestId);
    const outcomes = trace.rows[0]?.results as PluginOutcomeRecord[];
    expect(outcomes).toEqual([
      expect.objectContaining({
        pluginId: 'ab-answered',
        status: 'scored',
        attempts: 2,
        evidence: { evidenceIds: ['exp-3'] },
      }),
      expect.objectContaining({
        pluginId: 'ab-silent',
        status: 'not_applicable',
        attempts: windowHours + 1,
        reason: expect.stringMatching(/evidence window closed/),
      }),
    ]);
    const state = await handle.query(settlementStateQuery);
    expect(state.evidence.received).toEqual([
      expect.objectContaining({ pluginId: 'ab-answered', evidenceId: 'exp-3' }),
    ]);
  });
});
