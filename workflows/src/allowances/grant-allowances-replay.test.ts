import type { History } from '@temporalio/common/lib/proto-utils';
// The History message's own JSON, as in the settlement replay test (the SDK's helpers throw in this install).
import { temporal } from '@temporalio/proto';
import { Worker } from '@temporalio/worker';
import { createOrg, createUser, setAllowanceSchedule } from '@tokenwise/db';
import { createLedger } from '@tokenwise/ledger';
import { openTestDatabase } from '@tokenwise/db/testing';
import { connectTestTemporal } from '@tokenwise/workflows/testing';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { createWorker, dataConverter, workflowsPath } from '../worker';

/**
 * A recorded `grantAllowances` history: one schedule, two users at one user a page. Committed, so a
 * change to the workflow that would break runs in flight (the schedule starts one every hour) fails
 * here: guard it with `patched()`, or delete the file to record a new one and say why in the commit.
 */
const fixturePath = fileURLToPath(new URL('./fixtures/grant-allowances-history.json', import.meta.url));
const workflowId = 'grant-allowances-replay';

async function recordHistory(): Promise<History> {
  const [database, env] = await Promise.all([openTestDatabase('pglite'), connectTestTemporal()]);
  const ledger = createLedger({ db: database.db, hmacKey: randomBytes(32) });
  try {
    const orgId = (await createOrg(database.db, { actor: 'test', input: { slug: 'replay', name: 'Replay' } })).id;
    await setAllowanceSchedule(database.db, {
      orgId,
      role: 'employee',
      currency: 'innovation',
      amount: 100n,
      actor: 'test',
    });
    for (const email of ['a@replay.test', 'b@replay.test'])
      await createUser(database.db, { actor: 'test', input: { orgId, email, displayName: email } });
    const worker = await createWorker({
      connection: env.workerConnection,
      namespace: env.namespace,
      database,
      taskQueue: env.taskQueue,
      allowances: { ledger },
    });
    return await worker.runUntil(async () => {
      const handle = await env.client.workflow.start('grantAllowances', {
        taskQueue: env.taskQueue,
        workflowId: `${workflowId}-${Date.now()}`,
        args: [{ usersPerPage: 1 }],
      });
      expect(await handle.result()).toEqual({ granted: 2, alreadyGranted: 0, conflicting: 0 });
      return handle.fetchHistory();
    });
  } finally {
    await ledger.close();
    await env.close();
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

describe('grantAllowances replays its recorded history (determinism)', () => {
  it('replays the committed history without a nondeterminism error', async () => {
    const history = await readFixture();
    const events = history.events ?? [];
    // Two full pages, the short page that ends the schedule, and the call that finds no more schedules.
    const activities = events.flatMap((event) => event.activityTaskScheduledEventAttributes?.activityType?.name ?? []);
    expect(activities).toEqual([
      'grantScheduledAllowances',
      'grantScheduledAllowances',
      'grantScheduledAllowances',
      'grantScheduledAllowances',
    ]);
    expect(events.at(-1)?.workflowExecutionCompletedEventAttributes).toBeTruthy();
    await Worker.runReplayHistory(replayOptions, history, workflowId);
  });

  it('fails on a history the code does not match, so the check above has teeth', async () => {
    const json = JSON.parse(await readFile(fixturePath, 'utf8')) as {
      events: { activityTaskScheduledEventAttributes?: { activityType?: { name?: string } } }[];
    };
    const type = json.events.find((event) => event.activityTaskScheduledEventAttributes !== undefined)
      ?.activityTaskScheduledEventAttributes?.activityType;
    if (type === undefined) throw new Error('the fixture schedules no activity');
    type.name = 'grantEverything';
    await expect(
      Worker.runReplayHistory(replayOptions, temporal.api.history.v1.History.fromObject(json), workflowId),
    ).rejects.toMatchObject({ name: 'DeterminismViolationError' });
  });
});
