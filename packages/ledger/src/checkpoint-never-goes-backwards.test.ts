import { fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { checkpointSealValid, readCheckpoint, sealCheckpoint } from './checkpoint';
import { exportCheckpoint } from './checkpoint-export';

const key = randomBytes(32);
const processCount = 4;
const seqsPerProcess = 60;

/** Reads the file as fast as it can until `done`, recording every batch seq it saw, in order. */
function watch(path: string): { stop: () => Promise<bigint[]> } {
  const seen: bigint[] = [];
  let running = true;
  const loop = (async () => {
    while (running) {
      const checkpoint = await readCheckpoint(path);
      if (checkpoint !== undefined && BigInt(checkpoint.batchSeq) !== seen[seen.length - 1])
        seen.push(BigInt(checkpoint.batchSeq));
      await new Promise((resolve) => setImmediate(resolve));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return seen;
    },
  };
}

/** Interleaved heads for one writer: its share of 1..n, in an order that often goes back. */
function interleaved(writer: number, writers: number, count: number): bigint[] {
  const mine = Array.from({ length: count }, (_, index) => BigInt(index * writers + writer + 1));
  // Pairs swapped: a writer that exports a head it committed earlier, after a later one.
  for (let index = 0; index + 1 < mine.length; index += 2)
    [mine[index], mine[index + 1]] = [mine[index + 1] as bigint, mine[index] as bigint];
  return mine;
}

const sealed = (seq: bigint) =>
  sealCheckpoint(
    key,
    { batchSeq: seq, mac: seq.toString(16).padStart(64, '0'), lastTransferSeq: seq * 10n },
    new Date(),
  );

describe('several writers exporting checkpoints to one path', () => {
  let dir: string;
  let path: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tw-checkpoint-'));
    path = join(dir, 'ledger-checkpoint.json');
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('never moves the exported head backwards, whichever process writes last (separate processes)', async () => {
    const watcher = watch(path);
    const fixture = fileURLToPath(new URL('./fixtures/checkpoint-exporter-process.ts', import.meta.url));
    await Promise.all(
      Array.from({ length: processCount }, (_, writer) => {
        const child = fork(
          fixture,
          [path, key.toString('hex'), interleaved(writer, processCount, seqsPerProcess).join(',')],
          { execArgv: ['--import', 'tsx'], stdio: 'inherit' },
        );
        return new Promise<void>((resolve, reject) => {
          child.on('error', reject);
          child.on('exit', (code) =>
            code === 0 ? resolve() : reject(new Error(`exporter ${writer} exited with ${code}`)),
          );
        });
      }),
    );
    const seen = await watcher.stop();
    const final = await readCheckpoint(path);
    expect(final?.batchSeq).toBe(String(processCount * seqsPerProcess));
    expect(seen.length).toBeGreaterThan(1);
    expect(seen.filter((seq, index) => index > 0 && seq < (seen[index - 1] as bigint))).toEqual([]);
    expect(checkpointSealValid(key, final ?? sealed(0n))).toBe(true);
  }, 60_000);

  it('never moves it backwards under concurrent exports in one process either, and leaves no temp or lock file', async () => {
    const watcher = watch(path);
    await Promise.all(
      Array.from({ length: processCount }, (_, writer) =>
        (async () => {
          for (const seq of interleaved(writer, processCount, seqsPerProcess))
            await exportCheckpoint({ path, next: sealed(seq), continues: async () => true });
        })(),
      ),
    );
    const seen = await watcher.stop();
    expect(seen.filter((seq, index) => index > 0 && seq < (seen[index - 1] as bigint))).toEqual([]);
    expect((await readCheckpoint(path))?.batchSeq).toBe(String(processCount * seqsPerProcess));
    expect(await readdir(dir)).toEqual(['ledger-checkpoint.json']);
    expect((await stat(path)).mode & 0o777).toBe(0o600);
  });

  it('keeps an older checkpoint whose batch the chain no longer holds, as evidence of a cut tail', async () => {
    await exportCheckpoint({ path, next: sealed(9n), continues: async () => true });
    const outcome = await exportCheckpoint({ path, next: sealed(12n), continues: async () => false });
    expect(outcome).toMatchObject({
      written: false,
      reason: expect.stringMatching(/names batch 9 .*no longer holds with that MAC: the tail was cut or rewritten/),
    });
    expect((await readCheckpoint(path))?.batchSeq).toBe('9');
  });
});
