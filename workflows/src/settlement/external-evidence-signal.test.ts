import type { Worker } from '@temporalio/worker';
import { NotFoundError, ValidationError } from '@tokenwise/core';
import { findRequestsByEvidenceKeys, findUsageRecord, type Database } from '@tokenwise/db';
import { startGatewayWorld, type GatewayWorld } from '@tokenwise/gateway/testing';
import { definePlugin, type ExternalEvidence } from '@tokenwise/plugin-sdk';
import { openTestDatabase } from '@tokenwise/db/testing';
import { connectTestTemporal, type TestTemporal } from '@tokenwise/workflows/testing';
import { z } from 'zod';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWorker } from '../worker';
import { externalEvidenceSignal, settlementStateQuery } from './queries';
import { settlementWorkflowId } from './relay';
import { SettlementClosedError, sendExternalEvidence } from './send-external-evidence';
import {
  chargedRequest,
  createScoringTeam,
  expectedRefund,
  settlementDepsFor,
  settlementTrace,
  until,
} from './test-world';
import type { PluginOutcomeRecord, SettlementResult } from './types';

const hour = 60 * 60;
/** Far below the plugin's one-hour poll interval: only a woken wait settles this fast. */
const settledWithinMs = 15_000;

/**
 * A stand-in for the A/B plugin of a later issue: `pending` until evidence for it arrives, then a
 * score from the last result's lift. Records, per request, how much evidence each poll saw; a
 * request may hold its first poll at a gate until the test opens it.
 */
function abStandIn() {
  const polls = new Map<string, number[]>();
  const gates = new Map<string, Promise<void>>();
  const plugin = definePlugin({
    id: 'ab-stand-in',
    version: '1.0.0',
    configSchema: z.object({}),
    evidenceWindowSeconds: 24 * hour,
    pollIntervalSeconds: hour,
    score: async (input) => {
      const evidence = input.externalEvidence ?? [];
      polls.set(input.requestId, [...(polls.get(input.requestId) ?? []), evidence.length]);
      await gates.get(input.requestId);
      const last = evidence.at(-1);
      if (last === undefined)
        return {
          status: 'pending',
          reason: 'no A/B result yet',
          evidenceKeys: ['experiment:exp-42', `request:${input.requestId}`],
        };
      const { lift } = last.payload as { lift: number };
      return {
        status: 'scored',
        score: lift > 0 ? 0.8 : 0.2,
        confidence: 0.9,
        evidence: { evidenceIds: evidence.map((entry) => entry.evidenceId) },
        rationale: `the experiment's lift was ${lift}`,
      };
    },
  });
  return { plugin, polls, gates };
}

const abResult = (evidenceId: string, overrides: Partial<ExternalEvidence> = {}): ExternalEvidence => ({
  pluginId: 'ab-stand-in',
  evidenceId,
  payload: { experimentId: 'exp-42', lift: 0.12 },
  source: 'ab-platform',
  observedAt: '2026-01-01T00:00:00.000Z',
  ...overrides,
});

describe('external evidence reaches a settlement as a signal, on the Temporal dev server', () => {
  let database: Database;
  let world: GatewayWorld;
  let temporal: TestTemporal;
  let worker: Worker;
  let running: Promise<void>;
  const ab = abStandIn();

  beforeAll(async () => {
    [database, temporal] = await Promise.all([openTestDatabase('pglite'), connectTestTemporal()]);
    world = await startGatewayWorld(database);
    worker = await createWorker({
      connection: temporal.workerConnection,
      namespace: temporal.namespace,
      database,
      taskQueue: temporal.taskQueue,
      settlement: settlementDepsFor(world.ledger, [ab.plugin]),
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

  /** A charged request of a team scoring with the stand-in, its settlement started (no relay needed). */
  const startSettlement = async (gated = false) => {
    const team = await createScoringTeam(database, world, ['ab-stand-in']);
    const { requestId, cost } = await chargedRequest(database, team.client);
    let open = () => {};
    if (gated) ab.gates.set(requestId, new Promise<void>((resolve) => (open = resolve)));
    const handle = await temporal.client.workflow.start('settleUsage', {
      taskQueue: temporal.taskQueue,
      workflowId: settlementWorkflowId(requestId),
      args: [{ requestId }],
    });
    await until(async () => ((ab.polls.get(requestId)?.length ?? 0) >= 1 ? true : undefined), 'the first poll');
    return { requestId, cost, handle, open };
  };

  it('wakes a pending plugin as soon as its evidence is signalled, settles within seconds, and the query shows the evidence', async () => {
    const { requestId, cost, handle } = await startSettlement();
    // The first poll said pending: the workflow now waits on its one-hour poll timer.
    await until(
      async () =>
        (await handle.fetchHistory()).events?.some((event) => event.timerStartedEventAttributes) === true
          ? true
          : undefined,
      'the poll timer',
    );
    const before = await handle.query(settlementStateQuery);
    expect(before.evidence).toEqual({ received: [], rejected: [], duplicatesIgnored: 0, droppedOverLimit: 0 });
    // Whoever receives the result finds the waiting request through the evidence index, by the
    // keys its pending answer named; the keys stay out of the workflow's history.
    const usage = await findUsageRecord(database.db, { requestId });
    const waiting = await findRequestsByEvidenceKeys(database.db, {
      orgId: usage!.orgId,
      pluginId: 'ab-stand-in',
      keys: ['experiment:exp-42'],
      now: new Date(),
    });
    expect(waiting.map((hit) => hit.requestId)).toContain(requestId);
    expect(JSON.stringify((await handle.fetchHistory()).events)).not.toContain('experiment:exp-42');

    const sentAtMs = Date.now();
    await sendExternalEvidence(temporal.client, requestId, abResult('exp-42-final'));
    const result = (await handle.result()) as SettlementResult;

    expect(Date.now() - sentAtMs).toBeLessThan(settledWithinMs);
    expect(result).toMatchObject({ status: 'settled', score: 0.8, confidence: 0.9, refund: expectedRefund(cost) });
    expect(ab.polls.get(requestId)).toEqual([0, 1]);
    const trace = await settlementTrace(database, requestId);
    const [outcome] = trace.rows[0]?.results as PluginOutcomeRecord[];
    expect(outcome).toMatchObject({
      pluginId: 'ab-stand-in',
      status: 'scored',
      attempts: 2,
      evidence: { evidenceIds: ['exp-42-final'] },
    });
    const after = await handle.query(settlementStateQuery);
    expect(after.phase).toBe('done');
    expect(after.evidence.received).toEqual([{ ...abResult('exp-42-final'), receivedAt: expect.any(String) }]);
  });

  it('counts a redelivered evidenceId once, and records evidence for an unknown plugin as rejected', async () => {
    const { requestId, cost, handle, open } = await startSettlement(true);
    // The first poll is still running: every signal lands while the plugin works.
    await sendExternalEvidence(temporal.client, requestId, abResult('exp-7'));
    await sendExternalEvidence(
      temporal.client,
      requestId,
      abResult('exp-7', { payload: { experimentId: 'exp-7', lift: -1 } }),
    );
    await handle.signal(externalEvidenceSignal, abResult('exp-7'));
    await sendExternalEvidence(temporal.client, requestId, abResult('exp-8', { pluginId: 'github-commits' }));
    open();
    const result = (await handle.result()) as SettlementResult;

    // The pending answer of the gated poll did not wait an hour: evidence had already arrived.
    expect(result).toMatchObject({ status: 'settled', score: 0.8, refund: expectedRefund(cost) });
    expect(ab.polls.get(requestId)).toEqual([0, 1]);
    const state = await handle.query(settlementStateQuery);
    expect(state.evidence.received.map((entry) => entry.evidenceId)).toEqual(['exp-7']);
    expect(state.evidence.duplicatesIgnored).toBe(2);
    expect(state.evidence.rejected).toEqual([
      expect.objectContaining({
        pluginId: 'github-commits',
        evidenceId: 'exp-8',
        reason: 'no plugin "github-commits" in this settlement (its plugins: ab-stand-in)',
      }),
    ]);
  });

  it('refuses evidence for a completed settlement, naming its result; a missing settlement and a too-large payload too', async () => {
    const { requestId, cost, handle } = await startSettlement();
    await sendExternalEvidence(temporal.client, requestId, abResult('exp-9'));
    await handle.result();

    const late = sendExternalEvidence(temporal.client, requestId, abResult('exp-9-rerun'));
    await expect(late).rejects.toBeInstanceOf(SettlementClosedError);
    await expect(late).rejects.toMatchObject({
      code: 'CONFLICT',
      message: `the settlement of request ${requestId} already completed (settled, score 0.8, refund ${expectedRefund(cost)}, reward 0: ${(await handle.result()).reason}); evidence exp-9-rerun arrived too late and was not used`,
      details: {
        requestId,
        evidenceId: 'exp-9-rerun',
        result: expect.objectContaining({ status: 'settled', score: 0.8 }),
      },
    });

    const missing = sendExternalEvidence(temporal.client, 'req_never_charged', abResult('exp-10'));
    await expect(missing).rejects.toBeInstanceOf(NotFoundError);
    await expect(missing).rejects.toThrow(/no settlement exists for request req_never_charged/);
    await expect(
      sendExternalEvidence(temporal.client, requestId, abResult('exp-11', { payload: { blob: 'x'.repeat(4_096) } })),
    ).rejects.toBeInstanceOf(ValidationError);
  });
});
