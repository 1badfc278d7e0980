// The gateway as its own process for bench:gateway, so its CPU time and RSS are its own.
import { openDatabase } from '@tokenwise/db';
import { createLedger } from '@tokenwise/ledger';
import { monitorEventLoopDelay, PerformanceObserver, type PerformanceEntry } from 'node:perf_hooks';
import { writeHeapSnapshot } from 'node:v8';
import { ledgerBatchIntervalMs, startGateway } from '../src/index';

const config = JSON.parse(process.env.BENCH_GATEWAY_CONFIG ?? '{}') as { databaseUrl: string; pepper: string; ledgerKey: string; clusters: unknown };
const database = await openDatabase({ url: config.databaseUrl, poolSize: 8 });
const ledger = createLedger({ db: database.db, hmacKey: Buffer.from(config.ledgerKey, 'hex'), batchIntervalMs: Number(process.env.BENCH_BATCH_INTERVAL_MS ?? ledgerBatchIntervalMs) });
const gateway = await startGateway({
  db: database.db,
  ledger,
  keyPepper: Buffer.from(config.pepper, 'hex'),
  clusters: config.clusters as Parameters<typeof startGateway>[0]['clusters'],
  settings: { completionTokensCap: 64, ...(process.env.BENCH_FLUSH_MS === undefined ? {} : { streamFlushIntervalMs: Number(process.env.BENCH_FLUSH_MS) }) },
  log: (line) => process.stderr.write(`gateway: ${line}\n`),
});
process.send?.({ type: 'ready', url: gateway.url });
let baseline = process.cpuUsage();
// Where the gateway's own tail comes from: event-loop delay and garbage-collection pauses.
const loopDelay = monitorEventLoopDelay({ resolution: 1 });
loopDelay.enable();
let gcPauses: number[] = [];
let gcByKind: Record<string, { count: number; ms: number; maxMs: number }> = {};
const gcKinds: Record<number, string> = { 1: 'minor', 2: 'major', 4: 'incremental', 8: 'weakcb', 16: 'minor' };
new PerformanceObserver((list) => {
  for (const entry of list.getEntries() as (PerformanceEntry & { detail?: { kind?: number } })[]) {
    gcPauses.push(entry.duration);
    const kind = gcKinds[entry.detail?.kind ?? 0] ?? 'other';
    const slot = (gcByKind[kind] ??= { count: 0, ms: 0, maxMs: 0 });
    slot.count++;
    slot.ms += entry.duration;
    slot.maxMs = Math.max(slot.maxMs, entry.duration);
  }
}).observe({ entryTypes: ['gc'] });
process.on('message', (message: { type: string }) => {
  if (message.type === 'reset') {
    baseline = process.cpuUsage();
    loopDelay.reset();
    gcPauses = [];
    gcByKind = {};
    gateway.metrics.resetPhases();
    process.send?.({ type: 'reset' });
  } else if (message.type === 'heap') {
    // BENCH_HEAP=1: what stays alive after a full collection, and a heap snapshot of it.
    (globalThis as { gc?: () => void }).gc?.();
    const file = process.env.BENCH_HEAP === '1' ? writeHeapSnapshot('/tmp/gateway.heapsnapshot') : undefined;
    process.send?.({ type: 'heap', liveBytes: process.memoryUsage().heapUsed, rssBytes: process.memoryUsage().rss, file });
  } else if (message.type === 'stats') {
    const cpu = process.cpuUsage(baseline);
    process.send?.({ type: 'stats', cpuMicros: cpu.user + cpu.system, rssBytes: process.memoryUsage().rss, heapUsedBytes: process.memoryUsage().heapUsed, heapTotalBytes: process.memoryUsage().heapTotal, phases: gateway.metrics.phaseMeansMs(), phaseMax: gateway.metrics.phaseMaxMs(), ledger: ledger.stats(), loop: { p50: loopDelay.percentile(50) / 1e6, p99: loopDelay.percentile(99) / 1e6, p999: loopDelay.percentile(99.9) / 1e6, max: loopDelay.max / 1e6 }, gc: { count: gcPauses.length, totalMs: gcPauses.reduce((a, b) => a + b, 0), maxMs: Math.max(0, ...gcPauses), byKind: gcByKind } });
  } else if (message.type === 'stop') {
    void (async () => {
      await gateway.close();
      await ledger.close();
      await database.close();
      process.exit(0);
    })();
  }
});
