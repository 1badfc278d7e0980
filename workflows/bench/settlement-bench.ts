// npm run bench:settlement — a backlog of charged requests drained through the relay to settled,
// with the llm-judge plugin calling vllm-sim through the gateway as judge usage.
import { ensureTemporalCli, startPostgresServer, startTemporalDevServer } from '@tokenwise/devtools';
import { createOrg, createTeam, createUser, executeRows, openDatabase } from '@tokenwise/db';
import { scoringConfigs, settlementBounds, settlementPolicies } from '@tokenwise/db/schema';
import { createApiKey, publishPriceList } from '@tokenwise/control';
import { checkInvariants, createLedger } from '@tokenwise/ledger';
import { createGatewayLlmClient, createJsonLogger, createPluginContext } from '@tokenwise/plugin-sdk';
import llmJudge from '@tokenwise/plugin-llm-judge';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { sql } from 'drizzle-orm';
import { Pool } from 'undici';
import { createWorker, dataConverter, installTemporalRuntime, startOutboxRelay } from '../src/index';

const backlog = Number(process.env.BENCH_SETTLEMENTS ?? 1_000);
const drainTimeoutSeconds = Number(process.env.BENCH_DRAIN_SECONDS ?? 300);
const taskQueue = 'bench-settlement';
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

async function main(): Promise<void> {
  installTemporalRuntime('WARN');
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
    // The gateway and the simulated models run in their own process, as they do in production: the
    // worker's process holds only the worker and the relay.
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
    const issuance = await ledger.ensureAccount({
      ownerType: 'system',
      ownerId: 'issuance',
      currency: 'innovation',
      purpose: 'issuance',
    });
    const fund = async (owner: { ownerType: 'user' | 'system'; ownerId: string }, id: string) => {
      const wallet = await ledger.ensureAccount({ ...owner, orgId: org.id, currency: 'innovation', purpose: 'wallet' });
      await ledger.submit([
        {
          type: 'transfer',
          id,
          debitAccountId: issuance.id,
          creditAccountId: wallet.id,
          amount: 10n ** 15n,
          code: 'grant',
        },
      ]);
    };
    await fund({ ownerType: 'user', ownerId: user.id }, 'fund-user');
    await fund({ ownerType: 'system', ownerId: 'judge' }, 'fund-judge');
    const userKey = (await createApiKey(db, { pepper, orgId: org.id, userId: user.id, name: 'bench', actor: 'bench' }))
      .secret;
    const judgeKey = (
      await createApiKey(db, { pepper, orgId: org.id, systemOwner: 'judge', name: 'judge', actor: 'bench' })
    ).secret;
    await db.insert(scoringConfigs).values({
      teamId: team.id,
      version: 1,
      createdBy: 'bench',
      plugins: [
        {
          pluginId: 'llm-judge',
          weight: 1,
          config: { judgeModel: 'bench-judge', evalType: 'classify', samples: 1, useJsonSchema: true },
        },
      ],
    });
    await db.insert(settlementPolicies).values({
      teamId: team.id,
      version: 1,
      createdBy: 'bench',
      body: { refunds: [{ minScore: 0, shareBps: 1_000 }], minConfidence: 0 },
    });
    await db.insert(settlementBounds).values({ orgId: org.id, updatedBy: 'bench', body: { maxRefundShareBps: 5_000 } });

    // The backlog: charged requests whose settlement has not started (the relay is not running yet).
    const pool = new Pool(gateway.url, { connections: 64 });
    let next = 0;
    const sendOne = async () => {
      while (next < backlog) {
        const index = next++;
        const response = await pool.request({
          method: 'POST',
          path: '/v1/chat/completions',
          headers: { authorization: `Bearer ${userKey}`, 'content-type': 'application/json' },
          body: JSON.stringify({
            model: 'bench-app',
            messages: [{ role: 'user', content: `write function ${index}` }],
          }),
        });
        await response.body.text();
        if (response.statusCode !== 200) throw new Error(`request failed: ${response.statusCode}`);
      }
    };
    await Promise.all(Array.from({ length: 64 }, sendOne));
    await pool.close();
    for (;;) {
      const [row] = await executeRows<{ n: number }>(
        db,
        sql`select count(*)::int as n from usage_records where not system`,
      );
      if ((row?.n ?? 0) >= backlog) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    process.stdout.write(
      `${backlog} charged requests waiting in the outbox; PostgreSQL ${postgres.version}; Temporal dev server (in memory); llm-judge via the gateway (its own process) against vllm-sim.\n`,
    );

    const connection = await Connection.connect({ address: temporalServer.address });
    const workerConnection = await NativeConnection.connect({ address: temporalServer.address });
    cleanups.unshift(
      () => connection.close(),
      () => workerConnection.close(),
    );
    const client = new Client({ connection, dataConverter });
    const llm = createGatewayLlmClient({ baseUrl: gateway.url, apiKey: judgeKey, timeoutMs: 60_000 });
    const worker = await createWorker({
      connection: workerConnection,
      namespace: 'default',
      database,
      taskQueue,
      settlement: {
        ledger,
        plugins: new Map([[llmJudge.id, llmJudge]]),
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
    const startedAt = performance.now();
    const relay = startOutboxRelay({ db, client, taskQueue, intervalMs: 50, log: () => {} });
    let settled = 0;
    while (performance.now() - startedAt < drainTimeoutSeconds * 1000) {
      const [row] = await executeRows<{ n: number }>(db, sql`select count(*)::int as n from settlements`);
      settled = row?.n ?? 0;
      if (settled >= backlog) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const seconds = (performance.now() - startedAt) / 1000;
    await relay.stop();
    worker.shutdown();
    await running;

    const latencies = (
      await executeRows<{ ms: number }>(
        db,
        sql`select extract(epoch from (s.settled_at - u.created_at)) * 1000 as ms from settlements s join usage_records u on u.request_id = s.request_id`,
      )
    )
      .map((row) => Number(row.ms))
      .sort((a, b) => a - b);
    const [doubles] = await executeRows<{ n: number }>(
      db,
      sql`select count(*)::int as n from (select (user_data->>'requestId') as r from ledger_transfers where code = 'refund' group by 1 having count(*) > 1) d`,
    );
    const [judgeRows] = await executeRows<{ n: number; outbox: number }>(
      db,
      sql`select count(*)::int as n, (select count(*)::int from outbox o join usage_records j on j.request_id = o.request_id where j.system) as outbox from usage_records where system`,
    );
    const violations = await checkInvariants(db);
    const lost = backlog - settled;
    process.stdout.write(
      `settled ${settled}/${backlog} in ${seconds.toFixed(1)} s: ${(settled / seconds).toFixed(1)} settlements/s sustained\n`,
    );
    process.stdout.write(
      `response -> settled (backlog included): p50 ${(percentile(latencies, 50) / 1000).toFixed(2)} s, p99 ${(percentile(latencies, 99) / 1000).toFixed(2)} s\n`,
    );
    process.stdout.write(
      `judge calls: ${judgeRows?.n ?? 0} system usage rows, ${judgeRows?.outbox ?? 0} of them sent to settlement; ledger: ${violations.length === 0 ? 'all invariants hold' : violations.join('; ')}\n`,
    );
    process.stdout.write(
      `${JSON.stringify({ bench: 'settlement', settlements_per_s: Number((settled / seconds).toFixed(1)), p50_ms: Math.round(percentile(latencies, 50)), p99_ms: Math.round(percentile(latencies, 99)), lost, doubled: doubles?.n ?? 0 })}\n`,
    );
  } finally {
    for (const cleanup of cleanups) await cleanup().catch(() => {});
  }
}

await main();
