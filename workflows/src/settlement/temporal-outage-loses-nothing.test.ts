import { Client, Connection, defaultGrpcRetryOptions, makeGrpcRetryInterceptor } from '@temporalio/client';
import { NativeConnection, type Worker } from '@temporalio/worker';
import { ensureTemporalCli, startTemporalDevServer, type TemporalDevServer } from '@tokenwise/devtools';
import type { Database } from '@tokenwise/db';
import { outbox } from '@tokenwise/db/schema';
import { startGatewayWorld, type GatewayWorld } from '@tokenwise/gateway/testing';
import { checkInvariants } from '@tokenwise/ledger';
import { definePlugin } from '@tokenwise/plugin-sdk';
import { openTestDatabase } from '@tokenwise/db/testing';
import { inArray } from 'drizzle-orm';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWorker, dataConverter } from '../worker';
import { startOutboxRelay, type OutboxRelay } from './relay';
import {
  chargedRequest,
  createScoringTeam,
  expectedRefund,
  settlementDepsFor,
  settlementTrace,
  until,
  walletFunds,
} from './test-world';

/** Requests made while Temporal is down. */
const requestsDuringOutage = 3;

describe('Temporal stopped and restarted on the same port and database file', () => {
  let dir: string;
  let cliPath: string;
  let dbFilename: string;
  let server: TemporalDevServer | undefined;
  let database: Database;
  let world: GatewayWorld;
  let connection: Connection;
  let workerConnection: NativeConnection;
  let worker: Worker;
  let running: Promise<void>;
  let relay: OutboxRelay;
  const relayLog: string[] = [];
  const calls = { count: 0 };
  const alwaysGood = definePlugin({
    id: 'always-good',
    version: '1.0.0',
    configSchema: z.object({}),
    score: async () => {
      calls.count++;
      return { status: 'scored', score: 0.9, confidence: 1, evidence: {}, rationale: 'useful' };
    },
  });
  const taskQueue = 'temporal-outage';

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tokenwise-outage-'));
    dbFilename = join(dir, 'temporal.sqlite');
    cliPath = (await ensureTemporalCli({ log: () => {} })).path;
    [server, database] = await Promise.all([
      startTemporalDevServer({ cliPath, dbFilename }),
      openTestDatabase('pglite'),
    ]);
    world = await startGatewayWorld(database);
    // The client's default gRPC retries (10 attempts, ~20 s) would make each failed relay pass slow;
    // two quick attempts keep the test short and leave the retrying to the relay, which is what is tested.
    connection = await Connection.connect({
      address: server.address,
      interceptors: [makeGrpcRetryInterceptor(defaultGrpcRetryOptions({ maxAttempts: 2 }))],
    });
    workerConnection = await NativeConnection.connect({ address: server.address });
    const client = new Client({ connection, namespace: server.namespace, dataConverter });
    worker = await createWorker({
      connection: workerConnection,
      namespace: server.namespace,
      database,
      taskQueue,
      settlement: settlementDepsFor(world.ledger, [alwaysGood]),
    });
    running = worker.run();
    relay = startOutboxRelay({
      db: database.db,
      client,
      taskQueue,
      intervalMs: 100,
      log: (line) => relayLog.push(line),
    });
  });
  afterAll(async () => {
    await relay?.stop();
    worker?.shutdown();
    await running;
    await connection?.close();
    await workerConnection?.close();
    await server?.stop();
    await world?.close();
    await database?.close();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  it('keeps outbox rows undelivered while it is down, then settles each request exactly once', async () => {
    const db = database.db;
    const team = await createScoringTeam(database, world, ['always-good']);
    const address = server?.address ?? '';
    await server?.stop();
    server = undefined;

    // The gateway does not need Temporal: requests are charged and their outbox rows wait.
    const requests: { requestId: string; cost: bigint }[] = [];
    for (let index = 0; index < requestsDuringOutage; index++)
      requests.push(await chargedRequest(database, team.client));
    const requestIds = requests.map((request) => request.requestId);
    const rowsOf = () => db.select().from(outbox).where(inArray(outbox.requestId, requestIds));
    await until(
      async () => ((await rowsOf()).some((row) => row.attempts >= 3) ? true : undefined),
      'the relay to retry during the outage',
      600,
      100,
    );
    const waiting = await rowsOf();
    expect(waiting).toHaveLength(requestsDuringOutage);
    expect(waiting.every((row) => row.deliveredAt === null)).toBe(true);
    expect(relayLog.some((line) => /outbox rows wait/.test(line))).toBe(true);
    for (const requestId of requestIds) expect((await settlementTrace(database, requestId)).rows).toEqual([]);

    server = await startTemporalDevServer({ cliPath, dbFilename, port: Number(address.split(':')[1]) });
    expect(server.address).toBe(address);

    for (const { requestId, cost } of requests) {
      const trace = await until(
        async () => {
          const found = await settlementTrace(database, requestId);
          return found.rows.length > 0 ? found : undefined;
        },
        `the settlement of ${requestId}`,
        600,
        100,
      );
      expect(trace.rows).toHaveLength(1);
      expect(trace.transfers).toEqual([{ id: `refund-${requestId}`, code: 'refund', amount: expectedRefund(cost) }]);
    }
    await until(
      async () => ((await rowsOf()).every((row) => row.deliveredAt !== null) ? true : undefined),
      'every outbox row to be marked delivered',
      600,
      100,
    );
    const refunded = requests.reduce((sum, { cost }) => sum + expectedRefund(cost), 0n);
    const charged = requests.reduce((sum, { cost }) => sum + cost, 0n);
    expect((await world.ledger.balance(team.walletId)).posted).toBe(walletFunds - charged + refunded);
    expect(calls.count).toBe(requestsDuringOutage);
    expect(await checkInvariants(db)).toEqual([]);
  });
});
