// npm run bench:gateway — the gateway's added latency and cost, side by side with vllm-sim direct.
import { bundleEntries, startPostgresServer } from '@tokenwise/devtools';
import { createOrg, createTeam, createUser, executeRows, openDatabase } from '@tokenwise/db';
import { usageRecords } from '@tokenwise/db/schema';
import { checkInvariants, createLedger } from '@tokenwise/ledger';
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { inArray, sql } from 'drizzle-orm';
import { Pool } from 'undici';
import { createApiKey, publishPriceList, setCarbonCap, type SetCarbonCapInput } from '@tokenwise/control';
import { child, measuredOnSim, message, percentile, withSimVitals, type PhaseResult } from './bench-processes';
import { boxShares, boxTimes, fixedWorkloadMs } from './machine';
import { postmasterOf, serverCpuReader } from './server-cpu';
import { describeVitals, type Vitals } from './vitals';
import { describeBursts, phaseFile, samplePostgresActivity, timelineDir, type PostgresActivity } from './timeline';

const model = 'bench-model';

type GatewayStats = Vitals & {
  rssBytes: number;
  /** The phase's peak resident memory (Linux VmHWM, reset at the phase's start). */
  peakRssBytes: number;
  heapUsedBytes: number;
  heapTotalBytes: number;
  heapSpaces: Record<string, number>;
  phases: Record<string, { p50: number; p99: number; max: number }>;
  ledger: {
    batches: number;
    ops: number;
    retries: number;
    cached: number;
    loadMs: number;
    writeMs: number;
    statementMs: number;
    statementMaxMs: number;
  };
};
const ratePerSecond = Number(process.env.BENCH_RPS ?? 500);
// Long enough that a p99 rests on 100 requests, not on a couple of the box's scheduling hiccups.
const phaseSeconds = Number(process.env.BENCH_SECONDS ?? 20);
const warmUpSeconds = Number(process.env.BENCH_WARMUP_SECONDS ?? 5);
/**
 * Each measured phase starts after this much of its own traffic, unmeasured: the phases before it
 * left its path idle for a minute or more (caches of its keys and accounts expired, its code cold),
 * and a cold start inside the window was most of its p99. Its figures are printed on their own.
 */
const leadInSeconds = Number(process.env.BENCH_LEAD_IN_SECONDS ?? 3);
const userCount = 50;

/**
 * A second org whose every user, team and org has a carbon cap (never reached), so each request also
 * holds and charges three carbon budgets. BENCH_CARBON_CAPS=0 leaves it out; =user caps only its
 * users (one carbon budget a request), to see what the team's and the org's shared holds cost.
 */
const capsMode = process.env.BENCH_CARBON_CAPS ?? 'all';
if (!['0', 'user', 'all'].includes(capsMode))
  throw new Error(
    `BENCH_CARBON_CAPS must be 0 (no caps), user (users' caps only) or all (the default), not "${capsMode}".`,
  );
const withCaps = capsMode !== '0';
const capsPath = capsMode === 'user' ? 'gateway+user caps' : 'gateway+caps';

/** The bar the gateway is held to (issues #4 and #14): latency it adds over the model server and its peak memory, per path. */
const addedLatencyBar = { p50Ms: 5, p99Ms: 30, rssMb: 200, ratePerSecond: 500 };

const mb = (bytes: number) => (bytes / 2 ** 20).toFixed(0);

/**
 * Whether each measured gateway path met the bar, from its figures and the direct path's of the
 * same kind; only the paths this run measured. A run at another rate is not held to it.
 */
function barVerdict(
  results: Record<string, Pick<PhaseResult, 'name' | 'p50' | 'p99'>>,
  rate: number,
  peakRss: Record<string, number> = {},
): string {
  const bar = addedLatencyBar;
  const head = `bar (added p50 <= ${bar.p50Ms} ms and p99 <= ${bar.p99Ms} ms, peak RSS <= ${bar.rssMb} MB at ${bar.ratePerSecond} req/s, every path)`;
  if (rate !== bar.ratePerSecond) return `${head}: not judged, this run sent ${rate} req/s`;
  const met: string[] = [];
  const missed: string[] = [];
  for (const [key, result] of Object.entries(results)) {
    const direct = results[`direct-${key.slice(key.indexOf('-') + 1)}`];
    if (key.startsWith('direct-') || direct === undefined) continue;
    const p50 = result.p50 - direct.p50;
    const p99 = result.p99 - direct.p99;
    const over = [
      ...(p50 > bar.p50Ms ? [`p50 ${p50.toFixed(2)} ms`] : []),
      ...(p99 > bar.p99Ms ? [`p99 ${p99.toFixed(2)} ms`] : []),
      ...((peakRss[key] ?? 0) > bar.rssMb * 2 ** 20 ? [`peak RSS ${mb(peakRss[key] ?? 0)} MB`] : []),
    ];
    if (over.length === 0) met.push(result.name);
    else missed.push(`${result.name} (${over.join(', ')})`);
  }
  if (met.length + missed.length === 0) return `${head}: no gateway path measured`;
  if (missed.length === 0) return `${head}: met on every path measured (${met.join(', ')})`;
  return `${head}: MISSED on ${missed.join('; ')}${met.length > 0 ? `; met on ${met.join(', ')}` : ''}`;
}

/** Open loop: requests leave on schedule whether or not earlier ones finished. */
async function openLoop(
  name: string,
  base: string,
  stream: boolean,
  keys: string[] | undefined,
  seconds = phaseSeconds,
): Promise<PhaseResult> {
  const pool = new Pool(base, { connections: 2_048, pipelining: 1 });
  const loop = monitorEventLoopDelay({ resolution: 1 });
  loop.enable();
  const latencies: number[] = [];
  // BENCH_TIMELINE=1: each request's start, latency and wall-clock start, to see whether a tail comes in bursts (timeline.ts).
  const timeline: string[] = [];
  let ok = 0;
  let failed = 0;
  let sent = 0;
  const inflight: Promise<void>[] = [];
  const startedAt = performance.now();
  const total = ratePerSecond * seconds;
  const body = (index: number) =>
    JSON.stringify({
      model,
      messages: [{ role: 'user', content: `benchmark request ${index}` }],
      max_tokens: 64,
      ...(stream ? { stream: true, stream_options: { include_usage: true } } : {}),
    });
  for (let index = 0; index < total; index++) {
    const due = startedAt + (index * 1000) / ratePerSecond;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((resolve) => setTimeout(resolve, wait));
    sent++;
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (keys !== undefined) headers.authorization = `Bearer ${keys[index % keys.length]}`;
    const t0 = performance.now();
    inflight.push(
      pool
        .request({ method: 'POST', path: '/v1/chat/completions', headers, body: body(index) })
        .then(async (response) => {
          const text = await response.body.text();
          if (response.statusCode === 200 && (!stream || text.includes('[DONE]'))) {
            ok++;
            latencies.push(performance.now() - t0);
            timeline.push(
              `${(t0 - startedAt).toFixed(1)},${(performance.now() - t0).toFixed(2)},${(performance.timeOrigin + t0).toFixed(1)}`,
            );
          } else {
            failed++;
            if (failed <= 3) process.stderr.write(`${name}: ${response.statusCode} ${text.slice(0, 200)}\n`);
          }
        })
        .catch((error: unknown) => {
          failed++;
          if (failed <= 3) process.stderr.write(`${name}: ${String(error)}\n`);
        }),
    );
  }
  await Promise.all(inflight);
  const elapsedSeconds = (performance.now() - startedAt) / 1000;
  await pool.close();
  latencies.sort((a, b) => a - b);
  loop.disable();
  if (process.env.BENCH_TIMELINE === '1') {
    mkdirSync(timelineDir, { recursive: true });
    writeFileSync(`${timelineDir}/${phaseFile(name)}`, `startMs,latencyMs,epochMs\n${timeline.join('\n')}\n`);
  }
  return {
    name,
    sent,
    ok,
    failed,
    achievedRps: ok / elapsedSeconds,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    loopP99: loop.percentile(99) / 1e6,
    loopMax: loop.max / 1e6,
  };
}

/** WAL a full run writes: about 400 MB (48 segments of 16 MB). */
const walWarmedMb = 768;

async function main(): Promise<void> {
  // BENCH_PG_STATS=1: where PostgreSQL spends its time per statement (plan and execution), printed at the end.
  const pgStats = process.env.BENCH_PG_STATS === '1';
  // A server that has run a while recycles its WAL segments; a fresh cluster creates each one, and
  // the commit that crosses into it waits 15-50 ms. Unless BENCH_FRESH_WAL=1, the run recycles.
  const warmWal = process.env.BENCH_FRESH_WAL !== '1';
  const server = await startPostgresServer({
    ...(warmWal ? { warmWalMb: walWarmedMb } : {}),
    settings: {
      shared_buffers: '256MB',
      // BENCH_PG_SETTINGS='{"name":"value"}': more server settings, to try one.
      ...(JSON.parse(process.env.BENCH_PG_SETTINGS ?? '{}') as Record<string, string>),
      ...(process.env.BENCH_ASYNC_COMMIT === '1' ? { synchronous_commit: 'off' } : {}),
      ...(pgStats
        ? {
            shared_preload_libraries: 'pg_stat_statements',
            'pg_stat_statements.track_planning': 'on',
            track_wal_io_timing: 'on',
          }
        : {}),
    },
  });
  const children: ChildProcess[] = [];
  if (process.env.BENCH_TIMELINE === '1') rmSync(timelineDir, { recursive: true, force: true });
  const pgTimeline: PostgresActivity | undefined =
    process.env.BENCH_TIMELINE === '1' ? samplePostgresActivity(server.url) : undefined;
  try {
    const database = await openDatabase({ url: server.url, poolSize: 4 });
    // What each gateway phase costs the database server too (all its processes, from /proc).
    const [backend] = await executeRows<{ pid: number }>(database.db, sql`select pg_backend_pid() as pid`);
    const postmaster = backend === undefined ? undefined : postmasterOf(backend.pid);
    const serverCpu = postmaster === undefined ? undefined : serverCpuReader(postmaster);
    await database.migrate();
    if (pgStats) await database.db.execute(sql`create extension if not exists pg_stat_statements`);
    const ledgerKey = randomBytes(32);
    const pepper = randomBytes(32);
    const setupLedger = createLedger({ db: database.db, hmacKey: ledgerKey });
    await publishPriceList(database.db, {
      actor: 'bench',
      body: {
        version: 'bench',
        models: {
          [model]: {
            currency: 'innovation',
            cInputPerMTok: '1000000',
            cOutputPerMTok: '2000000',
            weightBillions: '8',
            cModelPerBParam: '10',
            tiers: {
              low: { fee: '0', currency: 'innovation' },
              normal: { fee: '0', currency: 'innovation' },
              high: { fee: '0', currency: 'innovation' },
              urgent: { fee: '0', currency: 'innovation' },
            },
          },
        },
      },
    });
    const org = await createOrg(database.db, { actor: 'bench', input: { slug: 'bench', name: 'Bench' } });
    const issuance = await setupLedger.ensureAccount({
      ownerType: 'system',
      ownerId: 'issuance',
      currency: 'innovation',
      purpose: 'issuance',
    });
    const userIds: string[] = [];
    const createUsers = async (orgId: string, prefix: string, teamId: string | null): Promise<string[]> => {
      const created: string[] = [];
      for (let i = 0; i < userCount; i++) {
        const user = await createUser(database.db, {
          actor: 'bench',
          input: { orgId, teamId, email: `${prefix}${i}@bench.example`, displayName: `User ${i}` },
        });
        userIds.push(user.id);
        const wallet = await setupLedger.ensureAccount({
          ownerType: 'user',
          ownerId: user.id,
          orgId,
          currency: 'innovation',
          purpose: 'wallet',
        });
        await setupLedger.submit([
          {
            type: 'transfer',
            id: `fund-${wallet.id}`,
            debitAccountId: issuance.id,
            creditAccountId: wallet.id,
            amount: 10n ** 15n,
            code: 'grant',
          },
        ]);
        created.push(
          (await createApiKey(database.db, { pepper, orgId, userId: user.id, name: 'bench', actor: 'bench' })).secret,
        );
      }
      return created;
    };
    const keys = await createUsers(org.id, 'user', null);
    let cappedKeys: string[] = [];
    if (withCaps) {
      const green = await createOrg(database.db, { actor: 'bench', input: { slug: 'bench-green', name: 'Green' } });
      const team = await createTeam(database.db, {
        actor: 'bench',
        input: { orgId: green.id, slug: 'green', name: 'Green' },
      });
      cappedKeys = await createUsers(green.id, 'green', team.id);
      const capDeps = { db: database.db, ledger: setupLedger };
      const cap = async (input: SetCarbonCapInput) =>
        setCarbonCap(capDeps, { orgId: green.id, timeZone: 'UTC', actor: 'bench', input });
      if (capsMode === 'all') {
        await cap({ scope: 'org', period: 'month', hardGrams: 100_000_000 });
        await cap({ scope: 'team', teamId: team.id, period: 'month', hardGrams: 10_000_000, softPercent: 90 });
      }
      for (const userId of userIds.slice(userCount))
        await cap({ scope: 'user', userId, period: 'month', hardGrams: 1_000_000, softPercent: 90 });
    }
    await setupLedger.close();

    const sim = child('./sim-process.ts', { BENCH_MODEL: model });
    children.push(sim);
    const simUrl = (await message<{ url: string }>(sim, 'ready')).url;
    const clusters = [
      {
        name: 'bench',
        models: [model],
        replicas: [{ id: 'sim-0', url: simUrl }],
        maxConcurrencyPerReplica: 1024,
        priorityScheduling: false,
        queueDepthMax: 10_000,
        queueWaitMsMax: 30_000,
        region: 'eu-west',
        gridIntensityGCo2ePerKwh: 300,
      },
    ];
    // The gateway runs from a bundle with gatewayNodeFlags, as Compose runs it (`npm run build`): no TypeScript loader in its process.
    await bundleEntries(
      { 'gateway-process': fileURLToPath(new URL('./gateway-process.ts', import.meta.url)) },
      fileURLToPath(new URL('./dist', import.meta.url)),
    );
    const gateway = child(
      './dist/gateway-process.mjs',
      {
        BENCH_GATEWAY_CONFIG: JSON.stringify({
          databaseUrl: process.env.BENCH_PG_SOCKET === '1' ? server.socketUrl : server.url,
          pepper: pepper.toString('hex'),
          ledgerKey: ledgerKey.toString('hex'),
          clusters,
        }),
      },
      process.env.BENCH_PROFILE === '1',
    );
    children.push(gateway);
    const ready = await message<{ url: string; rssBytes: number; heapTotalBytes: number }>(gateway, 'ready');
    const gatewayUrl = ready.url;
    process.stdout.write(
      `gateway started: RSS ${mb(ready.rssBytes)} MB, V8 heap ${mb(ready.heapTotalBytes)} MB, before any request\n`,
    );
    process.stdout.write(
      `PostgreSQL ${server.version}; vllm-sim (TTFT 20 ms, 32 output tokens) and the gateway in their own processes; ${ratePerSecond} req/s open loop for ${phaseSeconds} s per phase, each after ${leadInSeconds} s of its own traffic unmeasured, after ${warmUpSeconds} s of warm-up per path.\n\n`,
    );

    // Warm both paths (JIT, connection pools, caches) before measuring.
    await openLoop('warm-up direct', simUrl, false, undefined, warmUpSeconds);
    const warmUps = [
      await openLoop('warm-up gateway', gatewayUrl, false, keys, warmUpSeconds),
      await openLoop('warm-up gateway stream', gatewayUrl, true, keys, warmUpSeconds),
      ...(withCaps ? [await openLoop(`warm-up ${capsPath}`, gatewayUrl, false, cappedKeys, warmUpSeconds)] : []),
    ];
    const results: Record<string, PhaseResult> = {};
    // The same traffic right before a measured phase, unmeasured; its own figures show the cold start.
    const leadIns: PhaseResult[] = [];
    const leadIn = async (name: string, url: string, stream: boolean, phaseKeys: string[] | undefined) => {
      if (leadInSeconds <= 0) return [];
      const result = await openLoop(`${name} lead-in`, url, stream, phaseKeys, leadInSeconds);
      leadIns.push(result);
      return [result];
    };
    let cpuMicros = 0;
    let gatewayRequests = 0;
    let rssBytes = 0;
    const peakRss: Record<string, number> = {};
    const cpuPerRequest: Record<string, number> = {};
    const serverCpuPerRequest: Record<string, number> = {};
    let ledgerBefore: GatewayStats['ledger'] | undefined;
    // The machine's own speed before each measured phase, and how busy it was (and how much of it the hypervisor took) during it.
    const workloadMs: number[] = [];
    const stolen: number[] = [];
    const onTheMachine = async <T>(name: string, phase: () => Promise<T>): Promise<T> => {
      const before = boxTimes();
      const result = await phase();
      const shares = boxShares(before, boxTimes());
      if (shares !== undefined) stolen.push(shares.stealPercent);
      const box =
        shares === undefined
          ? ''
          : `the machine ${shares.busyPercent.toFixed(1)}% busy, ${shares.stealPercent.toFixed(1)}% stolen by the hypervisor; `;
      process.stdout.write(
        `${name}: ${box}a fixed CPU workload took ${workloadMs.at(-1)?.toFixed(1)} ms just before (lower is faster)\n`,
      );
      return result;
    };
    // One gateway phase with its own figures: the gateway's vitals, phases and ledger work are reset before it.
    const gatewayPhase = async (key: string, name: string, stream: boolean, phaseKeys: string[]) => {
      workloadMs.push(fixedWorkloadMs());
      // Unmeasured gateway traffic, like the warm-ups: its usage rows are counted with theirs.
      warmUps.push(...(await leadIn(name, gatewayUrl, stream, phaseKeys)));
      gateway.send({ type: 'reset' });
      await message(gateway, 'reset');
      const serverCpuBefore = serverCpu?.();
      const result = await onTheMachine(name, () =>
        measuredOnSim(simUrl, name, () =>
          withSimVitals(sim, name, () => openLoop(name, gatewayUrl, stream, phaseKeys)),
        ),
      );
      const serverCpuAfter = serverCpu?.();
      results[key] = result;
      gateway.send({ type: 'stats' });
      const stats = await message<GatewayStats>(gateway, 'stats');
      const ledger = stats.ledger;
      const before = ledgerBefore ?? {
        ...ledger,
        batches: 0,
        ops: 0,
        cached: 0,
        loadMs: 0,
        writeMs: 0,
        statementMs: 0,
      };
      ledgerBefore = ledger;
      const batches = Math.max(ledger.batches - before.batches, 1);
      const per = (field: 'loadMs' | 'writeMs' | 'statementMs') =>
        ((ledger[field] - before[field]) / batches).toFixed(2);
      process.stdout.write(`${name}: gateway ${describeVitals(stats)}
`);
      process.stdout.write(
        `${name}: ledger writer ${ledger.batches - before.batches} batches, ${((ledger.ops - before.ops) / batches).toFixed(1)} ops/batch, read ${per('loadMs')} ms + write ${per('writeMs')} ms per batch (of which the write statement's round trip ${per('statementMs')} ms, longest ${ledger.statementMaxMs.toFixed(1)} ms since start), ${ledger.cached - before.cached} decided from the writer's memory (no read), ${ledger.retries} retries (cumulative)\n`,
      );
      process.stdout.write(
        `${name}: gateway phases (p50 / p99 / longest ms): ${Object.entries(stats.phases)
          .map(([phase, ms]) => `${phase} ${ms.p50.toFixed(2)} / ${ms.p99.toFixed(1)} / ${ms.max.toFixed(1)}`)
          .join(', ')}\n`,
      );
      const direct = results[`direct-${stream ? 'stream' : 'json'}`];
      if (pgTimeline !== undefined && direct !== undefined)
        process.stdout.write(`${name}: ${describeBursts(phaseFile(name), direct.p99 + 30, pgTimeline.samples())}\n`);
      cpuPerRequest[key] = stats.cpuMicros / Math.max(result.sent, 1);
      process.stdout.write(
        `${name}: gateway CPU ${cpuPerRequest[key].toFixed(0)} µs per request; memory RSS peak ${mb(stats.peakRssBytes)} MB, at the end ${mb(stats.rssBytes)} MB, V8 heap ${mb(stats.heapUsedBytes)} MB used of ${mb(stats.heapTotalBytes)} MB (${Object.entries(
          stats.heapSpaces,
        )
          .filter(([, bytes]) => bytes >= 2 ** 20)
          .map(([space, bytes]) => `${space} ${mb(bytes)}`)
          .join(', ')})\n`,
      );
      if (serverCpuBefore !== undefined && serverCpuAfter !== undefined) {
        serverCpuPerRequest[key] = (serverCpuAfter - serverCpuBefore) / Math.max(result.sent, 1);
        process.stdout.write(
          `${name}: PostgreSQL server CPU ${serverCpuPerRequest[key].toFixed(0)} µs per request (all its processes, ${((serverCpuAfter - serverCpuBefore) / 1e4 / phaseSeconds).toFixed(0)}% of one core)\n`,
        );
      }
      cpuMicros += stats.cpuMicros;
      gatewayRequests += result.sent;
      peakRss[key] = stats.peakRssBytes;
      rssBytes = Math.max(rssBytes, stats.peakRssBytes);
    };
    for (const stream of (process.env.BENCH_KINDS ?? 'json,stream').split(',').map((kind) => kind === 'stream')) {
      const label = stream ? 'stream' : 'json';
      workloadMs.push(fixedWorkloadMs());
      await leadIn(`direct ${label}`, simUrl, stream, undefined);
      results[`direct-${label}`] = await onTheMachine(`direct ${label}`, () =>
        measuredOnSim(simUrl, `direct ${label}`, () =>
          withSimVitals(sim, `direct ${label}`, () => openLoop(`direct ${label}`, simUrl, stream, undefined)),
        ),
      );
      await gatewayPhase(`gateway-${label}`, `gateway ${label}`, stream, keys);
      if (withCaps) await gatewayPhase(`capped-${label}`, `${capsPath} ${label}`, stream, cappedKeys);
    }
    for (const result of Object.values(results)) {
      process.stdout.write(
        `${result.name.padEnd(15)} ${result.achievedRps.toFixed(0).padStart(5)} req/s ok ${result.ok}/${result.sent}  p50 ${result.p50.toFixed(2)} ms  p99 ${result.p99.toFixed(2)} ms  (load generator's event loop p99 ${result.loopP99.toFixed(1)} ms, max ${result.loopMax.toFixed(1)} ms)\n`,
      );
    }
    for (const result of leadIns) {
      process.stdout.write(
        `${result.name.padEnd(27)} ${result.achievedRps.toFixed(0).padStart(5)} req/s ok ${result.ok}/${result.sent}  p50 ${result.p50.toFixed(2)} ms  p99 ${result.p99.toFixed(2)} ms  (the first ${leadInSeconds} s after the path was idle; not in the figures above)\n`,
      );
    }
    // Per kind this run measured (BENCH_KINDS): "json p50 1.38 ms, p99 13.49 ms; stream ...".
    const addedOf = (prefix: string) =>
      ['json', 'stream']
        .filter((kind) => results[`${prefix}-${kind}`] !== undefined && results[`direct-${kind}`] !== undefined)
        .map((kind) => {
          const path = results[`${prefix}-${kind}`] as PhaseResult;
          const direct = results[`direct-${kind}`] as PhaseResult;
          return `${kind} p50 ${(path.p50 - direct.p50).toFixed(2)} ms, p99 ${(path.p99 - direct.p99).toFixed(2)} ms`;
        })
        .join('; ');
    process.stdout.write(`\nadded latency (gateway - direct): ${addedOf('gateway')}\n`);
    if (withCaps)
      process.stdout.write(
        `added latency with carbon caps on ${capsMode === 'user' ? 'every user (not their team or org)' : 'every user, team and org'}: ${addedOf('capped')}\n`,
      );
    const cpuOf = (prefix: string, perRequest = cpuPerRequest) =>
      Object.entries(perRequest)
        .filter(([key]) => key.startsWith(prefix))
        .map(([key, micros]) => `${key.slice(prefix.length)} ${micros.toFixed(0)}`)
        .join(', ');
    process.stdout.write(
      `gateway CPU ${(cpuMicros / gatewayRequests).toFixed(0)} µs per request (no caps: ${cpuOf('gateway-')}${withCaps ? `; caps: ${cpuOf('capped-')}` : ''}), peak RSS ${mb(rssBytes)} MB\n`,
    );
    if (Object.keys(serverCpuPerRequest).length > 0)
      process.stdout.write(
        `PostgreSQL server CPU per request: no caps: ${cpuOf('gateway-', serverCpuPerRequest)}${withCaps ? `; caps: ${cpuOf('capped-', serverCpuPerRequest)}` : ''} µs\n`,
      );
    process.stdout.write(
      `the machine: a fixed CPU workload took ${Math.min(...workloadMs).toFixed(1)}-${Math.max(...workloadMs).toFixed(1)} ms before the phases (lower is faster; compare runs on it)${stolen.length === 0 ? '' : `, the hypervisor took up to ${Math.max(...stolen).toFixed(1)}% of its CPU in a phase`}\n`,
    );
    process.stdout.write(`${barVerdict(results, ratePerSecond, peakRss)}\n`);

    if (process.env.BENCH_HEAP === '1') {
      gateway.send({ type: 'heap' });
      const heap = await message<{ liveBytes: number; rssBytes: number; file?: string }>(gateway, 'heap');
      process.stdout.write(
        `gateway after a full collection: V8 heap ${(heap.liveBytes / 2 ** 20).toFixed(0)} MB live, RSS ${(heap.rssBytes / 2 ** 20).toFixed(0)} MB; snapshot ${heap.file}\n`,
      );
    }
    gateway.send({ type: 'stop' });
    await once(gateway, 'exit');
    const okThroughGateway =
      Object.entries(results)
        .filter(([name]) => name.startsWith('gateway') || name.startsWith('capped'))
        .reduce((sum, [, result]) => sum + result.ok, 0) + 0;
    const [usage] = (await database.db
      .select({ count: sql<number>`count(*)::int` })
      .from(usageRecords)
      .where(inArray(usageRecords.userId, userIds))) as { count: number }[];
    const warmUpOk = warmUps.reduce((sum, result) => sum + result.ok, 0);
    const missingUsage = Math.max(0, okThroughGateway + warmUpOk - (usage?.count ?? 0));
    const violations = await checkInvariants(database.db);
    process.stdout.write(
      `usage rows ${usage?.count ?? 0} for ${okThroughGateway + warmUpOk} answered requests (incl. warm-up); ledger: ${violations.length === 0 ? 'all invariants hold' : violations.join('; ')}\n`,
    );
    if (pgStats) {
      const top = (await database.db.execute(
        sql`select calls::int as calls, round((mean_plan_time)::numeric, 3)::text as plan_ms, round((mean_exec_time)::numeric, 3)::text as exec_ms, round((max_exec_time)::numeric, 1)::text as max_exec_ms, round((total_exec_time + total_plan_time)::numeric)::text as total_ms, left(regexp_replace(query, '[[:space:]]+', ' ', 'g'), 90) as query
            from pg_stat_statements order by total_exec_time + total_plan_time desc limit 16`,
      )) as unknown as { rows?: Record<string, unknown>[] } | Record<string, unknown>[];
      const rows = Array.isArray(top) ? top : (top.rows ?? []);
      type Activity = {
        checkpoints: number;
        autovacuums: number;
        walRecords: string;
        walFpi: string;
        walBytes: string;
        walSyncMs: string;
        walSyncs: string;
      };
      const [activity] = (await executeRows<Activity>(
        database.db,
        sql`select (select (checkpoints_timed + checkpoints_req)::int from pg_stat_bgwriter) as checkpoints, (select coalesce(sum(autovacuum_count + autoanalyze_count), 0)::int from pg_stat_user_tables) as autovacuums,
          w.wal_records::text as "walRecords", w.wal_fpi::text as "walFpi", w.wal_bytes::text as "walBytes", w.wal_sync::text as "walSyncs", round(w.wal_sync_time)::text as "walSyncMs"
          from pg_stat_wal w`,
      )) as [Activity];
      process.stdout.write(
        `\nPostgreSQL background work during the run: ${activity.checkpoints} checkpoints, ${activity.autovacuums} autovacuum/autoanalyze runs; WAL ${activity.walRecords} records, ${activity.walFpi} full-page images, ${(Number(activity.walBytes) / 2 ** 20).toFixed(0)} MB, ${activity.walSyncs} syncs (${activity.walSyncMs} ms, with track_wal_io_timing)\n`,
      );
      process.stdout.write('PostgreSQL time per statement (pg_stat_statements):\n');
      for (const row of rows)
        process.stdout.write(
          `  ${String(row.calls).padStart(7)} calls  plan ${String(row.plan_ms).padStart(7)} ms  exec ${String(row.exec_ms).padStart(7)} ms (longest ${String(row.max_exec_ms)})  total ${String(row.total_ms).padStart(7)} ms  ${String(row.query)}\n`,
        );
    }
    // The uncapped paths' worst added latency over the kinds this run measured.
    const worst = (p: 'p50' | 'p99') =>
      Math.max(
        ...['json', 'stream'].map((kind) => {
          const path = results[`gateway-${kind}`];
          const direct = results[`direct-${kind}`];
          return path === undefined || direct === undefined ? 0 : path[p] - direct[p];
        }),
      );
    process.stdout.write(
      `${JSON.stringify({
        bench: 'gateway',
        rps: Math.round(
          Math.min(
            ...['gateway-json', 'gateway-stream'].flatMap((key) => {
              const result = results[key];
              return result === undefined ? [] : [result.achievedRps];
            }),
          ),
        ),
        added_p50_ms: Number(worst('p50').toFixed(2)),
        added_p99_ms: Number(worst('p99').toFixed(2)),
        cpu_us_per_req: Math.round(cpuMicros / gatewayRequests),
        rss_mb: Math.round(rssBytes / 2 ** 20),
        violations: violations.length,
        missing_usage: missingUsage,
      })}\n`,
    );
    await database.close();
  } finally {
    await pgTimeline?.stop();
    for (const process of children) if (process.exitCode === null) process.kill('SIGKILL');
    await server.stop();
  }
}

await main();
