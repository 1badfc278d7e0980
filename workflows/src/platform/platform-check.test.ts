import { amountMax } from '@tokenwise/core';
import { openTestDatabase } from '@tokenwise/db/testing';
import { connectTestTemporal, type TestTemporal } from '@tokenwise/workflows/testing';
import type { Database } from '@tokenwise/db';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWorker } from '../worker';
import { platformCheck } from '../workflows';

describe('platformCheck on the Temporal dev server', () => {
  let temporal: TestTemporal;
  let database: Database;

  beforeAll(async () => {
    [temporal, database] = await Promise.all([connectTestTemporal(), openTestDatabase('pglite')]);
  });
  afterAll(async () => {
    await temporal?.close();
    await database?.close();
  });

  it('runs a real workflow and a real database activity, carrying bigint amounts both ways', async () => {
    const worker = await createWorker({
      connection: temporal.workerConnection,
      namespace: temporal.namespace,
      database,
      taskQueue: temporal.taskQueue,
    });
    const amount = amountMax / 2n;
    const result = await worker.runUntil(
      temporal.client.workflow.execute(platformCheck, {
        taskQueue: temporal.taskQueue,
        workflowId: `platform-check-${temporal.taskQueue}`,
        args: [{ amount }],
      }),
    );
    expect(result).toEqual({
      amount,
      doubled: amount * 2n,
      backend: 'pglite',
      migrationsApplied: expect.any(Number),
      migrationsPending: [],
    });
    expect(result.migrationsApplied).toBeGreaterThan(0);
    // The history holds the amount as the codec wrote it, not as a lossy number.
    const history = await temporal.client.workflow.getHandle(`platform-check-${temporal.taskQueue}`).fetchHistory();
    const started = history.events?.[0]?.workflowExecutionStartedEventAttributes?.input?.payloads?.[0]?.data;
    expect(Buffer.from(started ?? new Uint8Array()).toString('utf8')).toBe(`{"amount":{"$bigint":"${amount}"}}`);
  });
});
