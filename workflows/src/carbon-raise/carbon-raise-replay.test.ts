import type { History } from '@temporalio/common/lib/proto-utils';
// As in settle-usage-replay.test.ts: the History message's own JSON round-trips, the SDK's helpers throw here.
import { temporal } from '@temporalio/proto';
import { Worker } from '@temporalio/worker';
import { decideRaise, requestRaise } from '@tokenwise/control';
import { carbonPeriodOf, nextCarbonPeriod } from '@tokenwise/core';
import { openTestDatabase } from '@tokenwise/db/testing';
import { createTimeSkippingEnvironment } from '@tokenwise/workflows/testing';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { payloadConverter } from '../payload-converter';
import { until } from '../settlement/test-world';
import { dataConverter, workflowsPath } from '../worker';
import {
  carbonRaiseDecidedSignal,
  carbonRaisePhaseQuery,
  carbonRaiseWorkflowId,
  type CarbonRaiseInput,
} from './signals';
import { raiseTimeZone, seedRaiseWorld, startRaiseWorker } from './test-world';

/**
 * A recorded `carbonRaise` history: officers notified, a decision signalled, the grant ensured, the
 * requester notified, a durable sleep to the `until` raise's last period's close, its end. Committed,
 * so a change that would break raises already waiting fails here: guard it with `patched()`, or,
 * when no old raise can still be running, delete the file to record a new one and say why.
 */
const fixturePath = fileURLToPath(new URL('./fixtures/carbon-raise-until-history.json', import.meta.url));

async function recordHistory(): Promise<History> {
  const taskQueue = 'carbon-raise-replay';
  const [env, database] = await Promise.all([createTimeSkippingEnvironment(), openTestDatabase('pglite')]);
  const world = await seedRaiseWorld(database);
  const worker = await startRaiseWorker(env, database, world.ledger, taskQueue);
  try {
    const now = new Date(await env.currentTimeMs());
    const untilDate = `${nextCarbonPeriod(carbonPeriodOf(now, raiseTimeZone, 'month'))}-01`;
    const { raise } = await requestRaise(world.db, world.actor(world.employee), {
      scope: 'user',
      grams: 3,
      reason: 'recorded for the replay test',
      until: untilDate,
      now,
    });
    const input: CarbonRaiseInput = { raiseId: raise.id, deadlineAt: raise.deadlineAt.toISOString() };
    const handle = await env.client.workflow.start('carbonRaise', {
      taskQueue,
      workflowId: carbonRaiseWorkflowId(raise.id),
      args: [input],
    });
    await until(async () => ((await handle.query(carbonRaisePhaseQuery)) === 'waiting' ? true : undefined), 'waiting');
    await decideRaise({ db: world.db, ledger: world.ledger }, world.actor(world.esg), {
      raiseId: raise.id,
      decision: 'approve',
      now,
    });
    await handle.signal(carbonRaiseDecidedSignal, { raiseId: raise.id });
    await until(
      async () => ((await handle.query(carbonRaisePhaseQuery)) === 'running-until' ? true : undefined),
      'the grant',
    );
    expect(await handle.result()).toMatchObject({ state: 'approved' });
    return await handle.fetchHistory();
  } finally {
    await worker.stop();
    await world.ledger.close();
    await env.teardown();
    await database.close();
  }
}

async function readFixture(): Promise<History> {
  if (!existsSync(fixturePath)) {
    const recorded = await recordHistory();
    await mkdir(dirname(fixturePath), { recursive: true });
    await writeFile(
      fixturePath,
      `${JSON.stringify(temporal.api.history.v1.History.fromObject(recorded).toJSON(), null, 2)}\n`,
    );
  }
  return temporal.api.history.v1.History.fromObject(JSON.parse(await readFile(fixturePath, 'utf8')));
}

const replayOptions = { workflowsPath, dataConverter, bundlerOptions: { ignoreModules: [] } };

function workflowIdOf(history: History): string {
  const payload = history.events?.[0]?.workflowExecutionStartedEventAttributes?.input?.payloads?.[0];
  if (payload === undefined) throw new Error('the history does not start with the workflow input');
  return carbonRaiseWorkflowId(payloadConverter.fromPayload<CarbonRaiseInput>(payload).raiseId);
}

describe('carbonRaise replays its recorded history (determinism)', () => {
  it('replays the committed history without a nondeterminism error', async () => {
    const history = await readFixture();
    const events = history.events ?? [];
    const activities = events.flatMap((event) => event.activityTaskScheduledEventAttributes?.activityType?.name ?? []);
    expect(activities).toEqual(['notifyRaiseOfficers', 'ensureRaiseGranted', 'notifyRaiseRequester', 'endCarbonRaise']);
    expect(events.flatMap((event) => event.workflowExecutionSignaledEventAttributes?.signalName ?? [])).toEqual([
      'carbonRaiseDecided',
    ]);
    // The deadline timer, cancelled by the decision; the sleep to the period's close, fired.
    expect(events.filter((event) => event.timerCanceledEventAttributes)).toHaveLength(1);
    expect(events.filter((event) => event.timerFiredEventAttributes)).toHaveLength(1);
    expect(events.at(-1)?.workflowExecutionCompletedEventAttributes).toBeTruthy();

    await Worker.runReplayHistory(replayOptions, history, workflowIdOf(history));
  });

  it('fails on a history the code does not match, so the check above has teeth', async () => {
    const json = JSON.parse(await readFile(fixturePath, 'utf8')) as {
      events: { activityTaskScheduledEventAttributes?: { activityType?: { name?: string } } }[];
    };
    const scheduled = json.events.find(
      (event) => event.activityTaskScheduledEventAttributes?.activityType?.name === 'ensureRaiseGranted',
    );
    const type = scheduled?.activityTaskScheduledEventAttributes?.activityType;
    if (type === undefined) throw new Error('the fixture schedules no ensureRaiseGranted activity');
    type.name = 'grantEverything';
    const tampered = temporal.api.history.v1.History.fromObject(json);
    await expect(Worker.runReplayHistory(replayOptions, tampered, workflowIdOf(tampered))).rejects.toMatchObject({
      name: 'DeterminismViolationError',
    });
  });
});
