// BENCH_TIMELINE=1: what else happened while requests were slow. Each request, each GC pause of the
// gateway and the simulator, and PostgreSQL's background work are put on one wall clock in
// /tmp/gwtimeline, and each measured gateway phase prints the half-seconds where its slow requests
// bunched, with what the gateway's GC and PostgreSQL were doing then.
import { executeRows, openDatabase } from '@tokenwise/db';
import { sql } from 'drizzle-orm';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { timelineDir } from './vitals';

export { timelineDir };

/** A phase's request timeline file, in the timeline dir. */
export function phaseFile(name: string): string {
  return `${name.replace(/[^a-z0-9+]+/gi, '-')}.csv`;
}

interface PostgresSample {
  epochMs: number;
  checkpointBuffers: number;
  autovacuum: string;
}

export interface PostgresActivity {
  samples(): readonly PostgresSample[];
  stop(): Promise<void>;
}

/**
 * Every 100 ms: which tables autovacuum workers are working on, and the buffers checkpoints have
 * written so far. Written to pg.csv on stop.
 */
export function samplePostgresActivity(url: string): PostgresActivity {
  const database = openDatabase({ url, poolSize: 1 });
  const samples: PostgresSample[] = [];
  let sampling: Promise<unknown> = database;
  const timer = setInterval(() => {
    sampling = sampling
      .then(async () =>
        executeRows<{ at: string; vacuuming: string | null; buffers: string }>(
          (await database).db,
          sql`select (extract(epoch from clock_timestamp()) * 1000)::text as at,
             (select string_agg(regexp_replace(query, '^autovacuum: ', ''), ' | ') from pg_stat_activity
               where backend_type = 'autovacuum worker' and state = 'active') as vacuuming,
             buffers_checkpoint::text as buffers
           from pg_stat_bgwriter`,
        ),
      )
      .then(([row]) => {
        if (row)
          samples.push({
            epochMs: Number(row.at),
            checkpointBuffers: Number(row.buffers),
            autovacuum: row.vacuuming ?? '',
          });
      })
      .catch(() => undefined);
  }, 100);
  return {
    samples: () => samples,
    async stop() {
      clearInterval(timer);
      await sampling;
      await (await database).close();
      mkdirSync(timelineDir, { recursive: true });
      writeFileSync(
        `${timelineDir}/pg.csv`,
        `epochMs,checkpointBuffers,autovacuum\n${samples.map((sample) => `${sample.epochMs},${sample.checkpointBuffers},"${sample.autovacuum}"`).join('\n')}\n`,
      );
    },
  };
}

const bucketMs = 500;

/**
 * The half-seconds of a phase (its CSV in the timeline dir) with at least `minSlow` requests slower
 * than `slowMs`, each with the gateway's GC time in it (minor, and major or incremental marking),
 * the tables autovacuum was working on, and buffers written by a checkpoint.
 */
export function describeBursts(
  phaseFile: string,
  slowMs: number,
  postgres: readonly PostgresSample[],
  minSlow = 10,
): string {
  const requests = readFileSync(`${timelineDir}/${phaseFile}`, 'utf8')
    .trim()
    .split('\n')
    .slice(1)
    .map((line) => line.split(',').map(Number))
    .map(([, latencyMs, epochMs]) => ({ epochMs: epochMs ?? 0, latencyMs: latencyMs ?? 0 }));
  if (requests.length === 0) return '';
  const start = Math.min(...requests.map((request) => request.epochMs));
  const buckets = new Map<number, { slow: number; count: number; minorMs: number; majorMs: number }>();
  const bucketOf = (epochMs: number) => Math.floor((epochMs - start) / bucketMs);
  const slot = (index: number) => {
    let bucket = buckets.get(index);
    if (bucket === undefined) buckets.set(index, (bucket = { slow: 0, count: 0, minorMs: 0, majorMs: 0 }));
    return bucket;
  };
  for (const request of requests) {
    const bucket = slot(bucketOf(request.epochMs));
    bucket.count++;
    if (request.latencyMs > slowMs) bucket.slow++;
  }
  const gcFile = `${timelineDir}/gc-gateway-process.csv`;
  if (existsSync(gcFile))
    for (const line of readFileSync(gcFile, 'utf8').trim().split('\n')) {
      const [at, duration, kind] = line.split(',');
      const index = bucketOf(Number(at));
      if (!buckets.has(index)) continue;
      if (kind === 'minor') slot(index).minorMs += Number(duration);
      else slot(index).majorMs += Number(duration);
    }
  const lines: string[] = [];
  let slowInBursts = 0;
  const total = requests.filter((request) => request.latencyMs > slowMs).length;
  for (const [index, bucket] of [...buckets].sort((a, b) => a[0] - b[0])) {
    if (bucket.slow < minSlow) continue;
    slowInBursts += bucket.slow;
    const from = start + index * bucketMs;
    const during = postgres.filter((sample) => sample.epochMs >= from && sample.epochMs < from + bucketMs);
    const vacuumed = new Set(during.flatMap((sample) => (sample.autovacuum ? sample.autovacuum.split(' | ') : [])));
    const checkpointed =
      during.length > 0 ? (during.at(-1)?.checkpointBuffers ?? 0) - (during[0]?.checkpointBuffers ?? 0) : 0;
    lines.push(
      `  ${((index * bucketMs) / 1000).toFixed(1).padStart(5)} s: ${String(bucket.slow).padStart(3)} of ${bucket.count} slow; gateway GC minor ${bucket.minorMs.toFixed(0)} ms, major ${bucket.majorMs.toFixed(0)} ms${vacuumed.size > 0 ? `; autovacuum: ${[...vacuumed].join(', ')}` : ''}${checkpointed > 0 ? `; checkpoint wrote ${checkpointed} buffers` : ''}`,
    );
  }
  return `${total} requests over ${slowMs.toFixed(0)} ms, ${slowInBursts} of them in ${lines.length} half-seconds with ${minSlow} or more:\n${lines.join('\n')}`;
}
