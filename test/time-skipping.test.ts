import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { amountMax } from '@tokenwise/core';
import { dataConverter } from '@tokenwise/workflows';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTimeSkippingEnvironment } from '@tokenwise/workflows/testing';
import { waitDays } from './workflows/durable-timer';

describe('the time-skipping test server', () => {
  let env: TestWorkflowEnvironment;
  beforeAll(async () => {
    env = await createTimeSkippingEnvironment();
  });
  afterAll(async () => {
    await env?.teardown();
  });

  it('runs a workflow that waits 30 days in moments, with bigint payloads', async () => {
    const worker = await Worker.create({
      connection: env.nativeConnection,
      taskQueue: 'time-skipping',
      workflowsPath: fileURLToPath(new URL('./workflows/durable-timer.ts', import.meta.url)),
      dataConverter,
    });
    const serverTimeBefore = await env.currentTimeMs();
    const result = await worker.runUntil(
      env.client.workflow.execute(waitDays, {
        taskQueue: 'time-skipping',
        workflowId: 'wait-30-days',
        args: [30, amountMax - 1n],
      }),
    );
    expect(result).toBe(amountMax);
    expect((await env.currentTimeMs()) - serverTimeBefore).toBeGreaterThanOrEqual(30 * 24 * 3600 * 1000);
  });
});
