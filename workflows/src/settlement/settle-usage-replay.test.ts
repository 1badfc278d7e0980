import type { History } from '@temporalio/common/lib/proto-utils';
// Not the SDK's historyToJSON/historyFromJSON: in this install @temporalio/common carries its own
// protobufjs, and both throw "type must be a Type". The History message's own JSON round-trips.
import { temporal } from '@temporalio/proto';
import { Worker } from '@temporalio/worker';
import { startGatewayWorld } from '@tokenwise/gateway/testing';
import { definePlugin } from '@tokenwise/plugin-sdk';
import { openTestDatabase } from '@tokenwise/db/testing';
import { createTimeSkippingEnvironment } from '@tokenwise/workflows/testing';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { describe, expect, it } from 'vitest';
import { payloadConverter } from '../payload-converter';
import { createWorker, dataConverter, workflowsPath } from '../worker';
import { settlementWorkflowId } from './relay';
import { sendExternalEvidence } from './send-external-evidence';
import { chargedRequest, createScoringTeam, settlementDepsFor, until } from './test-world';

/**
 * A recorded `settleUsage` history: two plugins, one pending for two polls on a durable timer,
 * then a refund. Committed, so a change to the workflow code that would break settlements already
 * running fails here: guard such a change with `patched()`, or, when no old settlement can still be
 * running, delete the file to record a new one and say why in the commit.
 */
const fixturePath = fileURLToPath(new URL('./fixtures/settle-usage-history.json', import.meta.url));
/**
 * A second recorded history, after the `external-evidence-signal` patch: a plugin pending until
 * external evidence arrives, woken from its poll timer by the signal (with a duplicate and one for
 * an unknown plugin), then a refund. Guards the signal path the same way.
 */
const evidenceFixturePath = fileURLToPath(
  new URL('./fixtures/settle-usage-with-evidence-history.json', import.meta.url),
);
/**
 * A third, after the `plugins-as-local-activities` patch: the same two plugins as the first, each
 * run as a local activity (a marker) in the settlement's workflow tasks, polled on durable timers.
 */
const localPluginsFixturePath = fileURLToPath(
  new URL('./fixtures/settle-usage-local-plugins-history.json', import.meta.url),
);

async function recordHistory(taskQueue = 'settle-usage-replay'): Promise<History> {
  const calls = { count: 0 };
  const later = definePlugin({
    id: 'later',
    version: '1.0.0',
    configSchema: z.object({}),
    evidenceWindowSeconds: 24 * 60 * 60,
    pollIntervalSeconds: 60 * 60,
    score: async () =>
      ++calls.count < 3
        ? { status: 'pending', reason: 'no evidence yet' }
        : {
            status: 'scored',
            score: 0.7,
            confidence: 0.8,
            evidence: { polls: calls.count },
            rationale: 'evidence came',
          },
  });
  const now = definePlugin({
    id: 'now',
    version: '1.0.0',
    configSchema: z.object({}),
    score: async () => ({ status: 'scored', score: 0.9, confidence: 1, evidence: {}, rationale: 'useful' }),
  });
  const [env, database] = await Promise.all([createTimeSkippingEnvironment(), openTestDatabase('pglite')]);
  const world = await startGatewayWorld(database);
  try {
    const team = await createScoringTeam(database, world, ['later', 'now']);
    const { requestId } = await chargedRequest(database, team.client);
    const worker = await createWorker({
      connection: env.nativeConnection,
      namespace: env.namespace ?? 'default',
      database,
      taskQueue,
      settlement: settlementDepsFor(world.ledger, [later, now]),
    });
    return await worker.runUntil(async () => {
      const handle = await env.client.workflow.start('settleUsage', {
        taskQueue,
        workflowId: settlementWorkflowId(requestId),
        args: [{ requestId }],
      });
      expect(await handle.result()).toMatchObject({ status: 'settled' });
      return handle.fetchHistory();
    });
  } finally {
    await world.close();
    await env.teardown();
    await database.close();
  }
}

async function recordEvidenceHistory(): Promise<History> {
  const polls = { count: 0 };
  const ab = definePlugin({
    id: 'ab',
    version: '1.0.0',
    configSchema: z.object({}),
    evidenceWindowSeconds: 24 * 60 * 60,
    pollIntervalSeconds: 60 * 60,
    score: async (input) => {
      polls.count++;
      const evidence = input.externalEvidence ?? [];
      if (evidence.length === 0) return { status: 'pending', reason: 'no A/B result yet' };
      return {
        status: 'scored',
        score: 0.7,
        confidence: 0.8,
        evidence: { evidenceIds: evidence.map((entry) => entry.evidenceId) },
        rationale: 'the experiment won',
      };
    },
  });
  const now = definePlugin({
    id: 'now',
    version: '1.0.0',
    configSchema: z.object({}),
    score: async () => ({ status: 'scored', score: 0.9, confidence: 1, evidence: {}, rationale: 'useful' }),
  });
  const [env, database] = await Promise.all([createTimeSkippingEnvironment(), openTestDatabase('pglite')]);
  const world = await startGatewayWorld(database);
  try {
    const team = await createScoringTeam(database, world, ['ab', 'now']);
    const { requestId } = await chargedRequest(database, team.client);
    const taskQueue = 'settle-usage-evidence-replay';
    const worker = await createWorker({
      connection: env.nativeConnection,
      namespace: env.namespace ?? 'default',
      database,
      taskQueue,
      settlement: settlementDepsFor(world.ledger, [ab, now]),
    });
    return await worker.runUntil(async () => {
      const handle = await env.client.workflow.start('settleUsage', {
        taskQueue,
        workflowId: settlementWorkflowId(requestId),
        args: [{ requestId }],
      });
      // Time does not skip before result() is awaited: the signals land while the poll timer waits.
      await until(
        async () =>
          (await handle.fetchHistory()).events?.some((event) => event.timerStartedEventAttributes) === true
            ? true
            : undefined,
        'the poll timer',
      );
      const evidence = {
        pluginId: 'ab',
        evidenceId: 'exp-1',
        payload: { lift: 0.1 },
        source: 'ab-platform',
        observedAt: '2026-01-01T00:00:00.000Z',
      };
      await sendExternalEvidence(env.client, requestId, evidence);
      await sendExternalEvidence(env.client, requestId, evidence);
      await sendExternalEvidence(env.client, requestId, { ...evidence, pluginId: 'unknown', evidenceId: 'exp-2' });
      expect(await handle.result()).toMatchObject({ status: 'settled' });
      expect(polls.count).toBe(2);
      return handle.fetchHistory();
    });
  } finally {
    await world.close();
    await env.teardown();
    await database.close();
  }
}

async function readFixture(path: string, record: () => Promise<History>): Promise<History> {
  if (!existsSync(path)) {
    const recorded = await record();
    await mkdir(dirname(path), { recursive: true });
    await writeFile(
      path,
      `${JSON.stringify(temporal.api.history.v1.History.fromObject(recorded).toJSON(), null, 2)}\n`,
    );
  }
  return temporal.api.history.v1.History.fromObject(JSON.parse(await readFile(path, 'utf8')));
}

const replayOptions = { workflowsPath, dataConverter, bundlerOptions: { ignoreModules: [] } };

/** Histories carry no workflow id; the workflow passes its id to applySettlement, so replay uses the original one. */
function workflowIdOf(history: History): string {
  const payload = history.events?.[0]?.workflowExecutionStartedEventAttributes?.input?.payloads?.[0];
  if (payload === undefined) throw new Error('the history does not start with the workflow input');
  return settlementWorkflowId(payloadConverter.fromPayload<{ requestId: string }>(payload).requestId);
}

describe('settleUsage replays its recorded history (determinism)', () => {
  it('replays the committed history without a nondeterminism error', async () => {
    const history = await readFixture(fixturePath, recordHistory);
    const events = history.events ?? [];
    // The fixture must exercise what matters: the plugin activities with two durable poll timers,
    // the database steps (local activities, recorded as markers), and completion.
    const activities = events.flatMap((event) => event.activityTaskScheduledEventAttributes?.activityType?.name ?? []);
    expect(activities).toEqual(['runPlugin', 'runPlugin', 'runPlugin', 'runPlugin']);
    expect(events.filter((event) => event.markerRecordedEventAttributes)).toHaveLength(2);
    expect(events.filter((event) => event.timerFiredEventAttributes)).toHaveLength(2);
    expect(events.at(-1)?.workflowExecutionCompletedEventAttributes).toBeTruthy();

    await Worker.runReplayHistory(replayOptions, history, workflowIdOf(history));
  });

  it('replays the history with external evidence signals, recorded after the patch', async () => {
    const history = await readFixture(evidenceFixturePath, recordEvidenceHistory);
    const events = history.events ?? [];
    // Three signals (one duplicate, one for an unknown plugin), the patch marker beside the two
    // database steps, and a poll timer cancelled by the evidence instead of fired an hour later.
    const signals = events.flatMap((event) => event.workflowExecutionSignaledEventAttributes?.signalName ?? []);
    expect(signals).toEqual(['externalEvidence', 'externalEvidence', 'externalEvidence']);
    const activities = events.flatMap((event) => event.activityTaskScheduledEventAttributes?.activityType?.name ?? []);
    expect(activities).toEqual(['runPlugin', 'runPlugin', 'runPlugin']);
    const markers = events.flatMap((event) => event.markerRecordedEventAttributes?.markerName ?? []);
    expect(markers.filter((name) => name === 'core_patch')).toHaveLength(1);
    expect(markers).toHaveLength(3);
    expect(events.filter((event) => event.timerStartedEventAttributes)).toHaveLength(1);
    expect(events.filter((event) => event.timerCanceledEventAttributes)).toHaveLength(1);
    expect(events.filter((event) => event.timerFiredEventAttributes)).toHaveLength(0);
    expect(events.at(-1)?.workflowExecutionCompletedEventAttributes).toBeTruthy();

    await Worker.runReplayHistory(replayOptions, history, workflowIdOf(history));
  });

  it('replays the history with plugins run as local activities, recorded after that patch', async () => {
    const history = await readFixture(localPluginsFixturePath, () =>
      recordHistory('settle-usage-local-plugins-replay'),
    );
    const events = history.events ?? [];
    // No activity task at all: every plugin run is a local-activity marker, with the two patch
    // markers, and the pending plugin's two polls wait on durable timers as before.
    expect(events.filter((event) => event.activityTaskScheduledEventAttributes)).toHaveLength(0);
    const markers = events.flatMap((event) => event.markerRecordedEventAttributes?.markerName ?? []);
    expect(markers.filter((name) => name === 'core_patch')).toHaveLength(2);
    expect(markers.filter((name) => name !== 'core_patch').length).toBeGreaterThanOrEqual(6);
    expect(events.filter((event) => event.timerFiredEventAttributes)).toHaveLength(2);
    expect(events.at(-1)?.workflowExecutionCompletedEventAttributes).toBeTruthy();

    await Worker.runReplayHistory(replayOptions, history, workflowIdOf(history));
  });

  it('fails on a history the code does not match, so the check above has teeth', async () => {
    const json = JSON.parse(await readFile(fixturePath, 'utf8')) as {
      events: { activityTaskScheduledEventAttributes?: { activityType?: { name?: string } } }[];
    };
    const scheduled = json.events.find(
      (event) => event.activityTaskScheduledEventAttributes?.activityType?.name === 'runPlugin',
    );
    const type = scheduled?.activityTaskScheduledEventAttributes?.activityType;
    if (type === undefined) throw new Error('the fixture schedules no runPlugin activity');
    type.name = 'refundEverything';
    const tampered = temporal.api.history.v1.History.fromObject(json);
    await expect(Worker.runReplayHistory(replayOptions, tampered, workflowIdOf(tampered))).rejects.toMatchObject({
      name: 'DeterminismViolationError',
    });
  });
});
