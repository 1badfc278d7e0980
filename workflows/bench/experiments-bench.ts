// npm run bench:experiments — one A/B result touching 10,000 tagged requests whose ab-results
// settlements wait for it: how fast the experiments relay wakes them, and how fast they then settle.
import { ensureTemporalCli, startPostgresServer, startTemporalDevServer } from '@tokenwise/devtools';
import { createOrg, createTeam, createUser, executeRows, findExperimentResult, openDatabase } from '@tokenwise/db';
import { scoringConfigs, settlementBounds, settlementPolicies } from '@tokenwise/db/schema';
import {
  createApiKey,
  createExperimentsServiceKey,
  publishPriceList,
  submitExperimentResults,
} from '@tokenwise/control';
import { checkInvariants, createLedger } from '@tokenwise/ledger';
import {
  createGatewayLlmClient,
  createJsonLogger,
  createPluginContext,
  type PluginDefinition,
} from '@tokenwise/plugin-sdk';
import { abResults } from '@tokenwise/plugin-ab-results';
import { revenuePerUser } from '@tokenwise/plugin-ab-results/testing';
import { Client, Connection, type WorkflowClientInterceptor } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { sql } from 'drizzle-orm';
import { Pool } from 'undici';
import {
  createWorker,
  dataConverter,
  installTemporalRuntime,
  startExperimentsRelay,
  settlementWorkflowId,
} from '../src/index';

const tagged = Number(process.env.BENCH_TAGGED_REQUESTS ?? 10_000);
const phaseTimeoutSeconds = Number(process.env.BENCH_PHASE_SECONDS ?? 900);
const taskQueue = 'bench-experiments';
/** Settlements started but not yet waiting for the result, at most. */
const startsAheadMax = 200;
const experimentKey = 'bench-banner';
const fees = {
  low: { fee: '0', currency: 'innovation' },
  normal: { fee: '0', currency: 'innovation' },
  high: { fee: '0', currency: 'innovation' },
  urgent: { fee: '0', currency: 'innovation' },
};

function percentile(sorted: number[], p: number): number {
  return sorted.length === 0
    ? 0
    : (sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number);
}

/** Polls `probe` every 100 ms until it is true; throws after phaseTimeoutSeconds naming `what`. */
async function waitFor(what: string, probe: () => Promise<boolean>): Promise<void> {
  const deadline = performance.now() + phaseTimeoutSeconds * 1000;
  while (!(await probe())) {
    if (performance.now() > deadline) throw new Error(`gave up after ${phaseTimeoutSeconds} s waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function main(): Promise<void> {
  const benchStartedAt = performance.now();
  installTemporalRuntime('ERROR');
  const postgres = await startPostgresServer({ settings: { shared_buffers: '256MB' } });
  const temporalServer = await startTemporalDevServer({ cliPath: (await ensureTemporalCli()).path });
  const cleanups: (() => Promise<unknown>)[] = [() => temporalServer.stop(), () => postgres.stop()];
  try {
    const database = await openDatabase({ url: postgres.url, poolSize: 8 });
    cleanups.unshift(() => database.close());
    await database.migrate();
    const db = database.db;
    const ledgerKey = randomBytes(32);
    const ledger = createLedger({ db, hmacKey: ledgerKey });
    cleanups.unshift(() => ledger.close());
    const price = {
      currency: 'innovation',
      cInputPerMTok: '1000000',
      cOutputPerMTok: '2000000',
      weightBillions: '8',
      cModelPerBParam: '10',
      tiers: fees,
    };
    await publishPriceList(db, {
      actor: 'bench',
      body: { version: 'bench', models: { 'bench-app': price, 'bench-judge': price } },
    });
    const pepper = randomBytes(32);
    // The gateway and the simulated model run in their own process, as in production (see bench:settlement).
    const services = fork(fileURLToPath(new URL('./services-process.ts', import.meta.url)), {
      execArgv: ['--import', 'tsx'],
      env: {
        ...process.env,
        BENCH_SERVICES_CONFIG: JSON.stringify({
          databaseUrl: postgres.url,
          pepper: pepper.toString('hex'),
          ledgerKey: ledgerKey.toString('hex'),
        }),
      },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    cleanups.unshift(async () => {
      if (services.exitCode !== null) return;
      services.send({ type: 'stop' });
      await Promise.race([once(services, 'exit'), new Promise((resolve) => setTimeout(resolve, 10_000))]);
      services.kill('SIGKILL');
    });
    const [ready] = (await once(services, 'message')) as [{ type: string; url: string }];
    const gateway = { url: ready.url };

    const org = await createOrg(db, { actor: 'bench', input: { slug: 'bench', name: 'Bench' } });
    const team = await createTeam(db, { actor: 'bench', input: { orgId: org.id, slug: 'eng', name: 'Eng' } });
    const user = await createUser(db, {
      actor: 'bench',
      input: { orgId: org.id, teamId: team.id, email: 'dev@bench.example', displayName: 'Dev' },
    });
    const admin = await createUser(db, {
      actor: 'bench',
      input: { orgId: org.id, email: 'admin@bench.example', displayName: 'Admin', roles: ['admin'] },
    });
    const issuance = await ledger.ensureAccount({
      ownerType: 'system',
      ownerId: 'issuance',
      currency: 'innovation',
      purpose: 'issuance',
    });
    const wallet = await ledger.ensureAccount({
      ownerType: 'user',
      ownerId: user.id,
      orgId: org.id,
      currency: 'innovation',
      purpose: 'wallet',
    });
    await ledger.submit([
      {
        type: 'transfer',
        id: 'fund-user',
        debitAccountId: issuance.id,
        creditAccountId: wallet.id,
        amount: 10n ** 15n,
        code: 'grant',
      },
    ]);
    const userKey = (await createApiKey(db, { pepper, orgId: org.id, userId: user.id, name: 'bench', actor: 'bench' }))
      .secret;
    const judgeKey = (
      await createApiKey(db, { pepper, orgId: org.id, systemOwner: 'judge', name: 'judge', actor: 'bench' })
    ).secret;
    await db.insert(scoringConfigs).values({
      teamId: team.id,
      version: 1,
      createdBy: 'bench',
      plugins: [{ pluginId: abResults.id, weight: 1, config: {} }],
    });
    await db.insert(settlementPolicies).values({
      teamId: team.id,
      version: 1,
      createdBy: 'bench',
      body: { refunds: [{ minScore: 0.5, shareBps: 5_000 }], minConfidence: 0 },
    });
    await db.insert(settlementBounds).values({ orgId: org.id, updatedBy: 'bench', body: { maxRefundShareBps: 5_000 } });

    // The tagged requests, charged through the gateway.
    const experimentStartedAt = new Date(Date.now() - 60_000);
    const sendStartedAt = performance.now();
    const pool = new Pool(gateway.url, { connections: 64 });
    let next = 0;
    const sendOne = async () => {
      while (next < tagged) {
        const index = next++;
        const response = await pool.request({
          method: 'POST',
          path: '/v1/chat/completions',
          headers: {
            authorization: `Bearer ${userKey}`,
            'content-type': 'application/json',
            'x-tokenwise-experiment': `${experimentKey}:bold`,
          },
          body: JSON.stringify({ model: 'bench-app', messages: [{ role: 'user', content: `banner ${index}` }] }),
        });
        await response.body.text();
        if (response.statusCode !== 200) throw new Error(`request failed: ${response.statusCode}`);
      }
    };
    await Promise.all(Array.from({ length: 64 }, sendOne));
    await pool.close();
    const countOf = async (query: ReturnType<typeof sql>) => (await executeRows<{ n: number }>(db, query))[0]?.n ?? 0;
    await waitFor(
      'the usage rows',
      async () =>
        (await countOf(sql`select count(*)::int as n from usage_records where experiment_key = ${experimentKey}`)) >=
        tagged,
    );
    const sendSeconds = (performance.now() - sendStartedAt) / 1000;

    // Their settlements start through the outbox relay, run ab-results (pending) and wait on its timer.
    const connection = await Connection.connect({ address: temporalServer.address });
    const workerConnection = await NativeConnection.connect({ address: temporalServer.address });
    cleanups.unshift(
      () => connection.close(),
      () => workerConnection.close(),
    );
    let pending = 0;
    const countingAbResults: PluginDefinition = {
      ...abResults,
      async score(input, ctx) {
        const outcome = await abResults.score(input as Parameters<typeof abResults.score>[0], ctx);
        if (outcome.status === 'pending') pending++;
        return outcome;
      },
    };
    const llm = createGatewayLlmClient({ baseUrl: gateway.url, apiKey: judgeKey, timeoutMs: 60_000 });
    const worker = await createWorker({
      connection: workerConnection,
      namespace: 'default',
      database,
      taskQueue,
      settlement: {
        ledger,
        plugins: new Map([[abResults.id, countingAbResults]]),
        contextFor: (pluginId) =>
          createPluginContext({
            logger: createJsonLogger({ plugin: pluginId }, () => {}),
            llm,
            fetchTimeoutMs: 10_000,
          }),
        pluginTimeoutMs: 60_000,
      },
    });
    const running = worker.run();
    const client = new Client({ connection, dataConverter });
    // Started here rather than by the outbox relay, which would start all 10,000 at once: on a 2-core
    // machine the worker then takes longer than a workflow task's timeout on each, and they retry
    // instead of progressing. At most startsAheadMax settlements are between start and waiting.
    const requestIds = (
      await executeRows<{ request_id: string }>(
        db,
        sql`select request_id from usage_records where experiment_key = ${experimentKey} order by request_id`,
      )
    ).map((row) => row.request_id);
    const waitStartedAt = performance.now();
    let started = 0;
    let lastReportAt = performance.now();
    const startSome = async () => {
      while (started < requestIds.length) {
        if (started - pending >= startsAheadMax) {
          if (process.env.BENCH_PROGRESS !== undefined && performance.now() - lastReportAt > 5_000) {
            lastReportAt = performance.now();
            const seconds = ((lastReportAt - waitStartedAt) / 1000).toFixed(0);
            process.stdout.write(`  ${pending} settlements waiting after ${seconds} s\n`);
          }
          if (performance.now() - waitStartedAt > phaseTimeoutSeconds * 1000)
            throw new Error(`gave up after ${phaseTimeoutSeconds} s: only ${pending} settlements waiting`);
          await new Promise((resolve) => setTimeout(resolve, 20));
          continue;
        }
        const requestId = requestIds[started++] as string;
        await client.workflow.start('settleUsage', {
          taskQueue,
          workflowId: settlementWorkflowId(requestId),
          args: [{ requestId }],
        });
      }
    };
    await Promise.all(Array.from({ length: 8 }, startSome));
    await waitFor('the settlements to wait', async () => pending >= tagged);
    const waitSeconds = (performance.now() - waitStartedAt) / 1000;
    process.stdout.write(
      `${tagged} tagged requests charged in ${sendSeconds.toFixed(1)} s; their settlements waiting after ${waitSeconds.toFixed(1)} s; PostgreSQL ${postgres.version}; Temporal dev server (in memory).\n`,
    );

    // One result for the experiment; the experiments relay signals every settlement it tags.
    const service = await createExperimentsServiceKey(db, {
      pepper,
      orgId: org.id,
      adminUserId: admin.id,
      name: 'growthbook',
      actor: 'bench',
    });
    const submitStartedAt = performance.now();
    await submitExperimentResults(db, {
      service: { keyId: service.key.id, orgId: org.id },
      input: {
        resultId: 'bench-final',
        experimentKey,
        metricId: 'revenue',
        higherIsBetter: true,
        startedAt: experimentStartedAt.toISOString(),
        variations: [
          { key: 'control', summary: revenuePerUser.control },
          { key: 'bold', summary: revenuePerUser.treatment },
        ],
        assignments: { bold: [user.id] },
      },
    });
    const submitMs = performance.now() - submitStartedAt;
    const signalLatenciesMs: number[] = [];
    const timing: WorkflowClientInterceptor = {
      async signal(input, nextSignal) {
        const startedAt = performance.now();
        await nextSignal(input);
        signalLatenciesMs.push(performance.now() - startedAt);
      },
    };
    const relayClient = new Client({ connection, dataConverter, interceptors: { workflow: [timing] } });
    const relayStartedAt = performance.now();
    const experimentsRelay = startExperimentsRelay({ db, client: relayClient, intervalMs: 50, log: () => {} });
    let relayed: Awaited<ReturnType<typeof findExperimentResult>>;
    await waitFor('the result relayed', async () => {
      relayed = await findExperimentResult(db, { orgId: org.id, resultId: 'bench-final' });
      return relayed !== undefined && relayed.relayedAt !== null;
    });
    const relaySeconds = (performance.now() - relayStartedAt) / 1000;
    const signalledEarly = relayed?.signalledSettlements ?? 0;
    const sortedEarly = [...signalLatenciesMs].sort((a, b) => a - b);
    // Printed before the settlements drain, so a run that cannot wait for them still reports the wake.
    process.stdout.write(
      `relay signalled ${signalledEarly} settlements in ${relaySeconds.toFixed(1)} s (${(signalledEarly / relaySeconds).toFixed(0)} woken/s); signal p50 ${percentile(sortedEarly, 50).toFixed(1)} ms, p99 ${percentile(sortedEarly, 99).toFixed(1)} ms; now waiting for them to settle\n`,
    );
    await waitFor(
      'the settlements to settle',
      async () => (await countOf(sql`select count(*)::int as n from settlements`)) >= tagged,
    );
    const settleSeconds = (performance.now() - relayStartedAt) / 1000;
    await experimentsRelay.stop();
    worker.shutdown();
    await running;

    const [doubles] = await executeRows<{ n: number }>(
      db,
      sql`select count(*)::int as n from (select (user_data->>'requestId') as r from ledger_transfers where code = 'refund' group by 1 having count(*) > 1) d`,
    );
    const refunds = await countOf(sql`select count(*)::int as n from ledger_transfers where code = 'refund'`);
    const violations = await checkInvariants(db);
    const latencies = signalLatenciesMs.sort((a, b) => a - b);
    const signalled = relayed?.signalledSettlements ?? 0;
    const totalSeconds = (performance.now() - benchStartedAt) / 1000;
    process.stdout.write(
      `result stored in ${submitMs.toFixed(0)} ms; relay signalled ${signalled} settlements (${relayed?.skippedSettlements ?? 0} skipped) in ${relaySeconds.toFixed(1)} s: ${(signalled / relaySeconds).toFixed(0)} settlements woken/s\n`,
    );
    process.stdout.write(
      `signal latency over ${latencies.length} signals: p50 ${percentile(latencies, 50).toFixed(1)} ms, p99 ${percentile(latencies, 99).toFixed(1)} ms\n`,
    );
    process.stdout.write(
      `all ${tagged} settled ${settleSeconds.toFixed(1)} s after the relay started (${(tagged / settleSeconds).toFixed(0)} settlements/s); ${refunds} refunds, ${doubles?.n ?? 0} doubled; ledger: ${violations.length === 0 ? 'all invariants hold' : violations.join('; ')}; bench total ${totalSeconds.toFixed(1)} s\n`,
    );
    process.stdout.write(
      `${JSON.stringify({ bench: 'experiments', tagged, woken_per_s: Math.round(signalled / relaySeconds), signal_p50_ms: Number(percentile(latencies, 50).toFixed(1)), signal_p99_ms: Number(percentile(latencies, 99).toFixed(1)), relay_s: Number(relaySeconds.toFixed(1)), settled_s: Number(settleSeconds.toFixed(1)), total_s: Number(totalSeconds.toFixed(1)), doubled: doubles?.n ?? 0 })}\n`,
    );
  } finally {
    for (const cleanup of cleanups) await cleanup().catch(() => {});
  }
}

await main();
