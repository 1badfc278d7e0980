import type { Database } from '@tokenwise/db';
import { evidenceIndex, outbox, settlements, usageRecords } from '@tokenwise/db/schema';
import { closeAbandonedAdmissions } from '@tokenwise/control';
import { startGatewayWorld, testModel, waitForUsageRows, type GatewayWorld } from '@tokenwise/gateway/testing';
import { openTestDatabase } from '@tokenwise/db/testing';
import { connectTestTemporal, type TestTemporal } from '@tokenwise/workflows/testing';
import type { Worker } from '@temporalio/worker';
import { eq } from 'drizzle-orm';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWorker } from '../worker';
import { ensureReconcileSchedule, reconcileScheduleId } from './schedule';
import type { ReconcileResult } from './workflows';

describe('reconciliation on the Temporal dev server', () => {
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
      settlement: {
        ledger: world.ledger,
        plugins: new Map(),
        contextFor: () => {
          throw new Error('no plugins here');
        },
        pluginTimeoutMs: 1_000,
      },
      reconcile: {
        ledger: world.ledger,
        client: temporal.client,
        taskQueue: temporal.taskQueue,
        closeAbandonedAdmissions: (olderThan) =>
          closeAbandonedAdmissions({ db: database.db, ledger: world.ledger }, { olderThan, limit: 200 }),
      },
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

  it('re-drives charged usage that never got a settlement, and reports no drift afterwards', async () => {
    const { apiKey } = await world.user({ innovation: 1_000_000n });
    const client = new OpenAI({ apiKey, baseURL: `${world.gateway.url}/v1`, maxRetries: 0 });
    const { response } = await client.chat.completions
      .create({ model: testModel, messages: [{ role: 'user', content: 'x' }] })
      .withResponse();
    const requestId = response.headers.get('x-request-id') as string;
    await waitForUsageRows(database, { requestId });
    // As if the relay handed it over and its workflow was lost (e.g. past the retention period).
    await database.db.update(outbox).set({ deliveredAt: new Date() }).where(eq(outbox.requestId, requestId));

    const run = (): Promise<ReconcileResult> =>
      temporal.client.workflow.execute('reconcileLedger', {
        taskQueue: temporal.taskQueue,
        workflowId: `reconcile-${Date.now()}`,
        args: [{ abandonedAfterMs: 0, unsettledAfterMs: 0 }],
      });
    // A key whose evidence window closed an hour ago, and one still open: the pass drops only the first.
    const [usage] = await database.db.select().from(usageRecords).where(eq(usageRecords.requestId, requestId));
    const indexed = (key: string, expiresAt: Date) => ({
      orgId: usage!.orgId,
      pluginId: 'github-commits',
      key,
      requestId,
      requestCreatedAt: usage!.createdAt,
      expiresAt,
    });
    await database.db
      .insert(evidenceIndex)
      .values([
        indexed('fp:closed', new Date(Date.now() - 3_600_000)),
        indexed('fp:open', new Date(Date.now() + 3_600_000)),
      ]);
    const first = await run();
    expect(first.redriven).toBeGreaterThanOrEqual(1);
    expect(first.purgedEvidenceKeys).toBeGreaterThanOrEqual(1);
    const keysLeft = await database.db.select().from(evidenceIndex).where(eq(evidenceIndex.requestId, requestId));
    expect(keysLeft.map((row) => row.key)).toEqual(['fp:open']);
    for (let attempt = 0; attempt < 200; attempt++) {
      if ((await database.db.select().from(settlements).where(eq(settlements.requestId, requestId))).length > 0) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const [row] = await database.db.select().from(settlements).where(eq(settlements.requestId, requestId));
    expect(row).toMatchObject({ refund: 0n, reason: 'the user has no team, so no scoring configuration applies' });
    const second = await run();
    expect(second).toMatchObject({ redriven: 0, drift: { unsettled: 0, openAdmissions: 0, invariantViolations: [] } });
  });

  it('creates its Temporal Schedule once; a restart finds it there', async () => {
    const options = {
      taskQueue: temporal.taskQueue,
      every: '1 hour',
      input: { abandonedAfterMs: 1_300_000, unsettledAfterMs: 86_400_000 },
    };
    expect(await ensureReconcileSchedule(temporal.client, options)).toBe('created');
    expect(await ensureReconcileSchedule(temporal.client, options)).toBe('exists');
    const description = await temporal.client.schedule.getHandle(reconcileScheduleId).describe();
    expect(description.action).toMatchObject({ type: 'startWorkflow', workflowType: 'reconcileLedger' });
    await temporal.client.schedule.getHandle(reconcileScheduleId).delete();
  });
});
