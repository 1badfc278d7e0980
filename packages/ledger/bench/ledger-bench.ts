// npm run bench:ledger — group-commit throughput of the ledger on a real PostgreSQL server.
import { startPostgresServer, runCommand } from '@tokenwise/devtools';
import { openDatabase } from '@tokenwise/db';
import { randomBytes, randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { join } from 'node:path';
import {
  checkInvariants,
  consumptionAccount,
  createLedger,
  ensureAccount,
  legacyIssuanceAccount,
  type Ledger,
  type LedgerOp,
  type OpResult,
} from '../src/index';

const walletCount = Number(process.env.BENCH_WALLETS ?? 10_000);
/** The journal key of the ledger under test. */
const ledgerKey = randomBytes(32);
const phaseSeconds = Number(process.env.BENCH_SECONDS ?? 10);
const callerCounts = [64, 256];
const retryShare = 0.1;

interface Phase {
  callers: number;
  transfersPerSecond: number;
  opsPerSecond: number;
  latencyMs: Record<string, { p50: number; p99: number; count: number }>;
  failures: Record<string, number>;
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
}

async function pgbenchTps(binDir: string, url: string): Promise<number> {
  const init = await runCommand(join(binDir, 'pgbench'), ['-i', '-q', '-s', '10', url]);
  if (init.code !== 0) throw new Error(`pgbench -i failed: ${init.stderr}`);
  const run = await runCommand(join(binDir, 'pgbench'), ['-N', '-c', '64', '-j', '2', '-T', String(phaseSeconds), url]);
  const match = /tps = ([\d.]+)/.exec(run.stdout);
  if (match === null) throw new Error(`pgbench printed no tps: ${run.stdout}${run.stderr}`);
  return Number(match[1]);
}

async function runPhase(ledger: Ledger, wallets: string[], sink: string, callers: number): Promise<Phase> {
  const latencies: Record<string, number[]> = { hold: [], post: [], void: [], retry: [] };
  const failures: Record<string, number> = {};
  let transfers = 0;
  let ops = 0;
  const deadline = performance.now() + phaseSeconds * 1000;
  const timed = async (kind: string, op: LedgerOp): Promise<OpResult> => {
    const started = performance.now();
    const [result] = await ledger.submit([op]);
    latencies[kind]?.push(performance.now() - started);
    ops++;
    if (result === undefined) throw new Error('no result');
    if (result.ok && !result.duplicate) transfers++;
    if (!result.ok) failures[result.code] = (failures[result.code] ?? 0) + 1;
    return result;
  };
  const caller = async () => {
    while (performance.now() < deadline) {
      const wallet = wallets[Math.floor(Math.random() * wallets.length)] as string;
      const holdId = `h-${randomUUID()}`;
      const amount = BigInt(1 + Math.floor(Math.random() * 1_000));
      const hold: LedgerOp = {
        type: 'pending',
        id: holdId,
        debitAccountId: wallet,
        creditAccountId: sink,
        amount,
        code: 'hold',
        timeoutSeconds: 300,
      };
      await timed('hold', hold);
      if (Math.random() < retryShare) await timed('retry', hold);
      const settle: LedgerOp =
        Math.random() < 0.7
          ? { type: 'post', id: `p-${holdId}`, pendingId: holdId, amount: amount / 2n }
          : { type: 'void', id: `v-${holdId}`, pendingId: holdId };
      await timed(settle.type, settle);
      if (Math.random() < retryShare) await timed('retry', settle);
    }
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: callers }, caller));
  const seconds = (performance.now() - started) / 1000;
  const latencyMs: Phase['latencyMs'] = {};
  for (const [kind, values] of Object.entries(latencies)) {
    values.sort((a, b) => a - b);
    latencyMs[kind] = { p50: percentile(values, 50), p99: percentile(values, 99), count: values.length };
  }
  return { callers, transfersPerSecond: transfers / seconds, opsPerSecond: ops / seconds, latencyMs, failures };
}

async function main(): Promise<void> {
  // As bench:gateway: the run recycles WAL segments, as a server that has run a while does, unless BENCH_FRESH_WAL=1.
  const warmWal = process.env.BENCH_FRESH_WAL !== '1';
  const server = await startPostgresServer({
    ...(warmWal ? { warmWalMb: 1024 } : {}),
    settings: { shared_buffers: '512MB', max_wal_size: '4GB' },
  });
  process.stdout.write(
    `PostgreSQL: ${server.version} (fsync on, synchronous_commit on, ${warmWal ? '1 GB of WAL ready to recycle' : 'a fresh WAL'})\n`,
  );
  try {
    const pgbench = await pgbenchTps(server.binDir, server.url);
    process.stdout.write(
      `pgbench -N -c 64 -j 2: ${pgbench.toFixed(0)} tps (one transaction per operation, the reference)\n`,
    );
    const database = await openDatabase({ url: server.url, poolSize: 8 });
    await database.migrate();
    const ledger = createLedger({ db: database.db, hmacKey: ledgerKey });
    const sink = (await consumptionAccount(database.db, 'innovation', ledgerKey)).id;
    const issuance = (await legacyIssuanceAccount(database.db, 'innovation', ledgerKey)).id;
    const wallets: string[] = [];
    for (let i = 0; i < walletCount; i++) {
      wallets.push(
        (
          await ensureAccount(
            database.db,
            { ownerType: 'user', ownerId: `bench-${i}`, currency: 'innovation', purpose: 'wallet' },
            ledgerKey,
          )
        ).id,
      );
    }
    for (let i = 0; i < wallets.length; i += 1_000) {
      await ledger.submit(
        wallets.slice(i, i + 1_000).map((wallet) => ({
          type: 'transfer' as const,
          id: `grant-${wallet}`,
          debitAccountId: issuance,
          creditAccountId: wallet,
          amount: 10_000_000n,
          code: 'grant',
        })),
      );
    }
    process.stdout.write(`${walletCount} wallets funded; every charge credits one consumption account.\n\n`);
    const phases: Phase[] = [];
    for (const callers of callerCounts) {
      const phase = await runPhase(ledger, wallets, sink, callers);
      phases.push(phase);
      process.stdout.write(
        `${callers} callers: ${phase.transfersPerSecond.toFixed(0)} transfers/s (${phase.opsPerSecond.toFixed(0)} ops/s incl. retries)\n`,
      );
      for (const [kind, stats] of Object.entries(phase.latencyMs)) {
        process.stdout.write(
          `  ${kind.padEnd(6)} p50 ${stats.p50.toFixed(2)} ms  p99 ${stats.p99.toFixed(2)} ms  (${stats.count})\n`,
        );
      }
      if (Object.keys(phase.failures).length > 0)
        process.stdout.write(`  failures: ${JSON.stringify(phase.failures)}\n`);
      const writer = ledger.stats();
      process.stdout.write(
        `  writer (cumulative): ${writer.batches} batches, ${writer.cached} decided from memory, ${writer.retries} retries, read ${(writer.loadMs / Math.max(writer.batches, 1)).toFixed(2)} ms + write ${(writer.writeMs / Math.max(writer.batches, 1)).toFixed(2)} ms per batch\n`,
      );
    }
    await ledger.close();
    const violations = await checkInvariants(database.db);
    const report = await ledger.verify();
    process.stdout.write(
      `\ninvariants: ${violations.length === 0 ? 'all hold' : violations.join('; ')}; chain: ${report.ok ? `verified (${report.transfers} transfers, ${report.batches} batches)` : report.problems.slice(0, 5).join('; ')}\n`,
    );
    const p99 = (phase: Phase | undefined) =>
      Math.max(...Object.values(phase?.latencyMs ?? {}).map((stats) => stats.p99));
    process.stdout.write(
      `${JSON.stringify({
        bench: 'ledger',
        transfers_per_s_64: Math.round(phases[0]?.transfersPerSecond ?? 0),
        transfers_per_s_256: Math.round(phases[1]?.transfersPerSecond ?? 0),
        p99_ms_64: Number(p99(phases[0]).toFixed(2)),
        p99_ms_256: Number(p99(phases[1]).toFixed(2)),
        pgbench_tps: Math.round(pgbench),
        violations: violations.length + report.problems.length,
      })}\n`,
    );
    await database.close();
  } finally {
    await server.stop();
  }
}

await main();
