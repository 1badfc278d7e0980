import type { Worker } from '@temporalio/worker';
import type { Database } from '@tokenwise/db';
import { startGatewayWorld, type GatewayWorld } from '@tokenwise/gateway/testing';
import { checkInvariants, type Ledger } from '@tokenwise/ledger';
import { definePlugin } from '@tokenwise/plugin-sdk';
import { openTestDatabase } from '@tokenwise/db/testing';
import { connectTestTemporal, type TestTemporal } from '@tokenwise/workflows/testing';
import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createWorker } from '../worker';
import { startOutboxRelay, settlementWorkflowId, type OutboxRelay } from './relay';
import {
  chargedRequest,
  createScoringTeam,
  expectedRefund,
  settlementDepsFor,
  settlementTrace,
  until,
  walletFunds,
} from './test-world';

/** The same plugin on the surviving worker: it answers at once. */
const calls = { count: 0 };
const answering = definePlugin({
  id: 'blocking',
  version: '1.0.0',
  configSchema: z.object({}),
  score: async () => {
    calls.count++;
    return {
      status: 'scored',
      score: 0.8,
      confidence: 1,
      evidence: { worker: 'second' },
      rationale: 'scored by the surviving worker',
    };
  },
});

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

async function nextMessage(child: ChildProcess, type: string): Promise<void> {
  for (;;) {
    const [message] = (await once(child, 'message')) as [{ type: string }];
    if (message.type === type) return;
  }
}

describe('a worker killed (SIGKILL) in the middle of a settlement', () => {
  let database: Database;
  let world: GatewayWorld;
  let temporal: TestTemporal;
  let relay: OutboxRelay;
  let doomed: ChildProcess | undefined;
  let survivor: { worker: Worker; run: Promise<void> } | undefined;

  beforeAll(async () => {
    // A real PostgreSQL server: the killed worker runs in a process of its own.
    [database, temporal] = await Promise.all([openTestDatabase('postgres'), connectTestTemporal()]);
    world = await startGatewayWorld(database);
    relay = startOutboxRelay({
      db: database.db,
      client: temporal.client,
      taskQueue: temporal.taskQueue,
      intervalMs: 100,
      log: () => {},
    });
  });
  afterAll(async () => {
    doomed?.kill('SIGKILL');
    await relay?.stop();
    if (survivor !== undefined && survivor.worker.getState() === 'RUNNING') survivor.worker.shutdown();
    await survivor?.run;
    await world?.close();
    await temporal?.close();
    await database?.close();
  });

  it('is finished by another worker, once: one settlement row, one refund, the balance refunded once', async () => {
    const team = await createScoringTeam(database, world, ['blocking']);
    const config = {
      databaseUrl: database.location,
      address: inject('temporalAddress'),
      namespace: temporal.namespace,
      taskQueue: temporal.taskQueue,
    };
    const child = fork(fileURLToPath(new URL('./fixtures/blocking-worker.ts', import.meta.url)), {
      execArgv: ['--import', 'tsx'],
      env: { ...process.env, BLOCKING_WORKER: JSON.stringify(config) },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    doomed = child;
    await nextMessage(child, 'ready');

    const { requestId, cost } = await chargedRequest(database, team.client);
    await nextMessage(child, 'scoring');
    const exited = once(child, 'exit');
    child.kill('SIGKILL');
    await exited;

    const submitters: string[] = [];
    const worker = await createWorker({
      connection: temporal.workerConnection,
      namespace: temporal.namespace,
      database,
      taskQueue: temporal.taskQueue,
      settlement: settlementDepsFor(ledgerSeenAs(world.ledger, 'second', submitters), [answering]),
    });
    survivor = { worker, run: worker.run() };

    // The dead worker's workflow task times out and the survivor runs the plugin again.
    const handle = temporal.client.workflow.getHandle(settlementWorkflowId(requestId));
    const result = await handle.result();
    expect(result).toMatchObject({ status: 'settled', score: 0.8, refund: expectedRefund(cost) });
    const trace = await settlementTrace(database, requestId);
    expect(trace.rows).toHaveLength(1);
    expect(trace.transfers).toEqual([{ id: `refund-${requestId}`, code: 'refund', amount: expectedRefund(cost) }]);
    expect((await world.ledger.balance(team.walletId)).posted).toBe(walletFunds - cost + expectedRefund(cost));
    expect(submitters).toEqual(['second']);
    expect(calls.count).toBe(1);

    // Starting the same settlement again (a duplicate delivery) moves nothing.
    const again = await temporal.client.workflow.execute('settleUsage', {
      taskQueue: temporal.taskQueue,
      workflowId: `again-${requestId}`,
      args: [{ requestId }],
    });
    expect(again).toMatchObject({ status: 'skipped', reason: 'already settled' });
    expect((await settlementTrace(database, requestId)).transfers).toHaveLength(1);
    expect((await world.ledger.balance(team.walletId)).posted).toBe(walletFunds - cost + expectedRefund(cost));
    expect(await checkInvariants(database.db)).toEqual([]);
    worker.shutdown();
    await survivor.run;
    await until(async () => (worker.getState() === 'STOPPED' ? true : undefined), 'the surviving worker to stop');
  });
});
