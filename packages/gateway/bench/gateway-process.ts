// The gateway as its own process for bench:gateway, so its CPU time and RSS are its own.
import { openDatabase, serviceIdleTimeoutMs } from '@tokenwise/db';
import { createLedger } from '@tokenwise/ledger';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { getHeapSpaceStatistics, writeHeapSnapshot } from 'node:v8';
import { ledgerBatchIntervalMs, startGateway } from '../src/index';
import { watchVitals } from './vitals';

const config = JSON.parse(process.env.BENCH_GATEWAY_CONFIG ?? '{}') as {
  databaseUrl: string;
  pepper: string;
  ledgerKey: string;
  clusters: unknown;
};
const database = await openDatabase({ url: config.databaseUrl, poolSize: 8, idleTimeoutMs: serviceIdleTimeoutMs });
const ledger = createLedger({
  db: database.db,
  hmacKey: Buffer.from(config.ledgerKey, 'hex'),
  batchIntervalMs: Number(process.env.BENCH_BATCH_INTERVAL_MS ?? ledgerBatchIntervalMs),
});
const gateway = await startGateway({
  db: database.db,
  ledger,
  keyPepper: Buffer.from(config.pepper, 'hex'),
  clusters: config.clusters as Parameters<typeof startGateway>[0]['clusters'],
  settings: {
    completionTokensCap: 64,
    ...(process.env.BENCH_FLUSH_MS === undefined ? {} : { streamFlushIntervalMs: Number(process.env.BENCH_FLUSH_MS) }),
  },
  log: (line) => process.stderr.write(`gateway: ${line}\n`),
});
process.send?.({
  type: 'ready',
  url: gateway.url,
  rssBytes: process.memoryUsage().rss,
  heapTotalBytes: process.memoryUsage().heapTotal,
});
// Every observation of each phase since the last reset, so the bench can print percentiles, not only means.
const phaseSamples = new Map<string, number[]>();
const observePhase = gateway.metrics.observePhase.bind(gateway.metrics);
gateway.metrics.observePhase = (name: string, ms: number) => {
  observePhase(name, ms);
  let list = phaseSamples.get(name);
  if (list === undefined) phaseSamples.set(name, (list = []));
  list.push(ms);
};
// Where the gateway's own tail comes from: event-loop delay and garbage-collection pauses.
const vitals = watchVitals();
// BENCH_PROFILE=phases: one CPU profile per measured gateway phase (/tmp/gwprof/phase-<n>.cpuprofile);
// BENCH_PROFILE=allocations: where each phase allocates instead (/tmp/gwprof/phase-<n>.heapprofile, sampled);
// BENCH_PROFILE=promoted: only what outlived the young generation (what old-generation collections pay for).
const profileKind = process.env.BENCH_PROFILE;
const promotedOnly = profileKind === 'promoted';
const allocations = profileKind === 'allocations' || promotedOnly;
const phaseProfiles = profileKind === 'phases' || allocations ? new Session() : undefined;
phaseProfiles?.connect();
let phaseProfileCount = 0;
const postProfiler = (method: string) =>
  new Promise<unknown>((resolve, reject) =>
    phaseProfiles?.post(method, (error, result) => (error === null ? resolve(result) : reject(error))),
  );
/**
 * Linux keeps the process's peak resident memory (VmHWM); writing 5 to clear_refs starts it again
 * at the current RSS, so each phase reports its own peak, not a sample at its end.
 */
function resetPeakRss(): void {
  try {
    writeFileSync('/proc/self/clear_refs', '5');
  } catch {
    // Not Linux, or not allowed: the peak then counts from the start of the process.
  }
}
function peakRssBytes(): number {
  try {
    const kb = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync('/proc/self/status', 'utf8'))?.[1];
    if (kb !== undefined) return Number(kb) * 1024;
  } catch {
    // Not Linux.
  }
  return process.memoryUsage().rss;
}
process.on('message', (message: { type: string }) => {
  if (message.type === 'reset') {
    resetPeakRss();
    if (phaseProfiles !== undefined)
      void (allocations
        ? postProfiler('HeapProfiler.enable').then(() =>
            phaseProfiles.post('HeapProfiler.startSampling', {
              samplingInterval: 16_384,
              includeObjectsCollectedByMajorGC: true,
              includeObjectsCollectedByMinorGC: !promotedOnly,
            }),
          )
        : postProfiler('Profiler.enable').then(() => postProfiler('Profiler.start')));
    vitals.reset();
    phaseSamples.clear();
    gateway.metrics.resetPhases();
    process.send?.({ type: 'reset' });
  } else if (message.type === 'heap') {
    // BENCH_HEAP=1: what stays alive after a full collection, and a heap snapshot of it.
    (globalThis as { gc?: () => void }).gc?.();
    const file = process.env.BENCH_HEAP === '1' ? writeHeapSnapshot('/tmp/gateway.heapsnapshot') : undefined;
    process.send?.({
      type: 'heap',
      liveBytes: process.memoryUsage().heapUsed,
      rssBytes: process.memoryUsage().rss,
      file,
    });
  } else if (message.type === 'stats') {
    if (phaseProfiles !== undefined)
      void postProfiler(allocations ? 'HeapProfiler.stopSampling' : 'Profiler.stop').then((result) => {
        mkdirSync('/tmp/gwprof', { recursive: true });
        writeFileSync(
          `/tmp/gwprof/phase-${++phaseProfileCount}.${allocations ? 'heapprofile' : 'cpuprofile'}`,
          JSON.stringify((result as { profile: unknown }).profile),
        );
      });
    process.send?.({
      type: 'stats',
      ...vitals.read(),
      rssBytes: process.memoryUsage().rss,
      peakRssBytes: peakRssBytes(),
      heapUsedBytes: process.memoryUsage().heapUsed,
      heapTotalBytes: process.memoryUsage().heapTotal,
      // What each V8 space holds committed now (MB): which one a larger heap grew in.
      heapSpaces: Object.fromEntries(
        getHeapSpaceStatistics().map((space) => [space.space_name.replace(/_space$/, ''), space.space_size]),
      ),
      phases: Object.fromEntries(
        [...phaseSamples].map(([name, samples]) => {
          samples.sort((a, b) => a - b);
          const at = (p: number) => samples[Math.min(samples.length - 1, Math.floor(samples.length * p))] ?? 0;
          return [name, { p50: at(0.5), p99: at(0.99), max: samples[samples.length - 1] ?? 0 }];
        }),
      ),
      ledger: ledger.stats(),
    });
  } else if (message.type === 'stop') {
    void (async () => {
      await gateway.close();
      await ledger.close();
      await database.close();
      process.exit(0);
    })();
  }
});
