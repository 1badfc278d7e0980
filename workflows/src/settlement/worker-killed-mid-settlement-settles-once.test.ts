import type { Worker } from '@temporalio/worker';
import type { Database } from '@tokenwise/db';
import { startGatewayWorld, type GatewayWorld } from '@tokenwise/gateway/testing';
import { checkInvariants, type Ledger } from '@tokenwise/ledger';
import { definePlugin } from '@tokenwise/plugin-sdk';
import { openTestDatabase } from '@tokenwise/test/db';
import { connectTestTemporal, type TestTemporal } from '@tokenwise/test/temporal';
import { z } from 'zod';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWorker } from '../worker';
import { startOutboxRelay, settlementWorkflowId, type OutboxRelay } from './relay';
import { chargedRequest, createScoringTeam, expectedRefund, settlementDepsFor, settlementTrace, until, walletFunds } from './test-world';

/** A plugin that blocks inside its activity until the test releases it, counting its runs. */
function blockingPlugin() {
  let release: () => void = () => {};
  const released = new Promise<void>((resolve) => {
    release = resolve;
  });
  let entered: () => void = () => {};
  const running = new Promise<void>((resolve) => {
    entered = resolve;
  });
  const calls = { count: 0 };
  const plugin = definePlugin({
    id: 'blocking',
    version: '1.0.0',
    configSchema: z.object({}),
    score: async () => {
      calls.count++;
      entered();
      await released;
      return { status: 'scored', score: 0.8, confidence: 1, evidence: { released: true }, rationale: 'released by the test' };
    },
  });
  return { plugin, release, running, calls };
}

/** The world's ledger, noting which worker submitted each batch. */
function ledgerSeenAs(ledger: Ledger, name: string, submitters: string[]): Ledger {
  return new Proxy(ledger, {
    get(target, property, receiver) {
      if (property === 'submit') {
        return (...args: Parameters<Ledger['submit']>) => {
          submitters.push(name);
          return target.submit(...args);
        };
      }
      return Reflect.get(target, property, receiver) as unknown;
    },
  });
}

describe('a worker shut down in the middle of a settlement', () => {
  let database: Database;
  let world: GatewayWorld;
  let temporal: TestTemporal;
  let relay: OutboxRelay;
  const running: Promise<void>[] = [];
  const workers: Worker[] = [];

  beforeAll(async () => {
    [database, temporal] = await Promise.all([openTestDatabase('pglite'), connectTestTemporal()]);
    world = await startGatewayWorld(database);
    relay = startOutboxRelay({ db: database.db, client: temporal.client, taskQueue: temporal.taskQueue, intervalMs: 100, log: () => {} });
  });
  afterAll(async () => {
    await relay?.stop();
    for (const worker of workers) if (worker.getState() === 'RUNNING') worker.shutdown();
    await Promise.allSettled(running);
    await world?.close();
    await temporal?.close();
    await database?.close();
  });

  it('resumes on a new worker and settles once: one settlement row, one refund, the balance refunded once', async () => {
    const blocking = blockingPlugin();
    const team = await createScoringTeam(database, world, ['blocking']);
    const submitters: string[] = [];
    const start = async (name: string) => {
      const worker = await createWorker({
        connection: temporal.workerConnection,
        namespace: temporal.namespace,
        database,
        taskQueue: temporal.taskQueue,
        settlement: settlementDepsFor(ledgerSeenAs(world.ledger, name, submitters), [blocking.plugin]),
      });
      workers.push(worker);
      const run = worker.run();
      running.push(run);
      return { worker, run };
    };

    const first = await start('first');
    const { requestId, cost } = await chargedRequest(database, team.client);
    await blocking.running;
    const handle = temporal.client.workflow.getHandle(settlementWorkflowId(requestId));
    expect((await handle.query('settlementState')) as { phase: string }).toMatchObject({ phase: 'scoring' });

    // The first worker stops polling at once and cancels its in-flight plugin run, which Temporal
    // then retries on the new worker (a dead worker is noticed by its missing heartbeats).
    first.worker.shutdown();
    const second = await start('second');
    blocking.release();
    await first.run;

    const result = await handle.result();
    expect(result).toMatchObject({ status: 'settled', score: 0.8, refund: expectedRefund(cost) });
    const trace = await settlementTrace(database, requestId);
    expect(trace.rows).toHaveLength(1);
    expect(trace.transfers).toEqual([{ id: `refund-${requestId}`, code: 'refund', amount: expectedRefund(cost) }]);
    expect((await world.ledger.balance(team.walletId)).posted).toBe(walletFunds - cost + expectedRefund(cost));
    // The workflow was finished by the new worker: the settling transfers were submitted there only.
    expect(submitters).toEqual(['second']);
    // The plugin may run again on the new worker; the money moves once whatever it does.
    expect(blocking.calls.count).toBeGreaterThanOrEqual(1);
    expect(blocking.calls.count).toBeLessThanOrEqual(2);

    // Starting the same settlement again (a duplicate delivery) moves nothing.
    const again = await temporal.client.workflow.execute('settleUsage', { taskQueue: temporal.taskQueue, workflowId: `again-${requestId}`, args: [{ requestId }] });
    expect(again).toMatchObject({ status: 'skipped', reason: 'already settled' });
    expect((await settlementTrace(database, requestId)).transfers).toHaveLength(1);
    expect((await world.ledger.balance(team.walletId)).posted).toBe(walletFunds - cost + expectedRefund(cost));
    expect(await checkInvariants(database.db)).toEqual([]);
    second.worker.shutdown();
    await second.run;
    await until(async () => (second.worker.getState() === 'STOPPED' ? true : undefined), 'the second worker to stop');
  });
});
