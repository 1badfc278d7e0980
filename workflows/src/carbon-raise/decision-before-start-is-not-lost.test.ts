import { Client } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { decideRaise, requestRaise } from '@tokenwise/control';
import type { Database } from '@tokenwise/db';
import { outbox } from '@tokenwise/db/schema';
import { openTestDatabase } from '@tokenwise/db/testing';
import { createTimeSkippingEnvironment } from '@tokenwise/workflows/testing';
import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OutboxRelay } from '../relay-loop';
import { until } from '../settlement/test-world';
import { dataConverter } from '../worker';
import { startCarbonRaiseRelay } from './relay';
import { carbonRaiseWorkflowId } from './signals';
import {
  budgetOf,
  outboxDelivered,
  raiseNotifications,
  seedRaiseWorld,
  startRaiseWorker,
  type RaiseWorld,
} from './test-world';

const taskQueue = 'carbon-raise-decision-first';

describe('a decision relayed before its raise’s start row', () => {
  let env: TestWorkflowEnvironment;
  let database: Database;
  let world: RaiseWorld;
  let worker: Awaited<ReturnType<typeof startRaiseWorker>>;
  let relay: OutboxRelay | undefined;
  let client: Client;

  beforeAll(async () => {
    [env, database] = await Promise.all([createTimeSkippingEnvironment(), openTestDatabase('pglite')]);
    client = new Client({ connection: env.connection, namespace: env.namespace ?? 'default', dataConverter });
    world = await seedRaiseWorld(database);
    worker = await startRaiseWorker(env, database, world.ledger, taskQueue);
  });
  afterAll(async () => {
    await relay?.stop();
    await worker?.stop();
    await world?.ledger.close();
    await env?.teardown();
    await database?.close();
  });

  it('starts the workflow with the decision (signalWithStart), and the late start row counts as delivered', async () => {
    const now = new Date(await env.currentTimeMs());
    const { raiseId } = await requestRaise(world.db, world.actor(world.employee), {
      scope: 'user',
      grams: 7,
      reason: 'decided before the relay ran',
      now,
    });
    await decideRaise({ db: world.db, ledger: world.ledger }, world.actor(world.esg), {
      raiseId,
      decision: 'approve',
      now,
    });
    const startRow = and(eq(outbox.requestId, raiseId), eq(outbox.kind, 'carbon_raise_start'));
    // Hold the start row back, as if its delivery had failed while the decision's went through.
    await world.db.update(outbox).set({ deliveredAt: new Date() }).where(startRow);
    relay = startCarbonRaiseRelay({ db: world.db, client, taskQueue, intervalMs: 50, log: () => {} });
    await until(
      async () => ((await outboxDelivered(world, raiseId, 'carbon_raise_decided')) ? true : undefined),
      'the decision to be relayed',
    );
    const handle = client.workflow.getHandle(carbonRaiseWorkflowId(raiseId));
    expect(await handle.result()).toMatchObject({ raiseId, state: 'approved', grantedMicrograms: 7_000_000n });
    // Decided already when the workflow began: the officers are not asked, the requester is told.
    expect((await raiseNotifications(world, raiseId)).map((row) => row.kind)).toEqual(['carbon_raise_decided']);
    expect(await budgetOf(world, 'user', world.employee.id, now)).toBe(7_000_000n);

    await world.db.update(outbox).set({ deliveredAt: null }).where(startRow);
    await until(
      async () => ((await outboxDelivered(world, raiseId, 'carbon_raise_start')) ? true : undefined),
      'the start row to be delivered',
    );
    const [row] = await world.db.select({ attempts: outbox.attempts }).from(outbox).where(startRow);
    expect(row?.attempts).toBe(0);
  });
});
