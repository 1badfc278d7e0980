import type { Db } from '@tokenwise/db';
import { sealCheckpoint } from './checkpoint';
import { exportCheckpoint, type ExportOutcome } from './checkpoint-export';
import { recordHighWater } from './high-water';
import { batchMacAt } from './queries';
import type { ChainHead } from './writer';

/** Exports at most this often by default, and on close. */
export const checkpointIntervalMsDefault = 200;

export interface CheckpointExporter {
  /** Notes a committed head; the export follows within the interval. */
  committed(head: ChainHead): void;
  /** Exports a head now (after any export under way) and says what happened. */
  exportHead(head: ChainHead): Promise<ExportOutcome>;
  /** Exports the last noted head now and waits for every export under way. */
  flush(): Promise<void>;
}

/**
 * A process's checkpoint export: the head it last committed, sealed under the ledger key, written
 * through `exportCheckpoint` (so the file never goes backwards, whichever process writes), then
 * recorded as the database's high-water mark. It also remembers the highest head it has seen in the
 * file or written there: finding the file below that means someone replaced it with an older one,
 * and it says so on stderr (the export then moves the file forward again).
 */
export function createCheckpointExporter(options: {
  db: Db;
  hmacKey: Buffer;
  path: string;
  clock: () => Date;
  intervalMs?: number;
}): CheckpointExporter {
  let pending: ChainHead | undefined;
  let timer: NodeJS.Timeout | undefined;
  let chain: Promise<unknown> = Promise.resolve();
  let highestSeen = 0n;
  const warn = (message: string) => process.stderr.write(`ledger: ${message}\n`);

  const run = async (head: ChainHead): Promise<ExportOutcome> => {
    const next = sealCheckpoint(options.hmacKey, head, options.clock());
    const outcome = await exportCheckpoint({
      path: options.path,
      next,
      continues: async (existing) => (await batchMacAt(options.db, BigInt(existing.batchSeq))) === existing.mac,
    });
    const found = outcome.written ? outcome.replaced : outcome.existing;
    if (found !== undefined && BigInt(found.batchSeq) < highestSeen) {
      warn(
        `the exported checkpoint went backwards: ${options.path} named batch ${found.batchSeq}, but this process saw batch ${highestSeen} exported there before`,
      );
    }
    if (found !== undefined && BigInt(found.batchSeq) > highestSeen) highestSeen = BigInt(found.batchSeq);
    if (outcome.written) {
      if (head.batchSeq > highestSeen) highestSeen = head.batchSeq;
      await recordHighWater(options.db, next);
    } else if (found === undefined || BigInt(found.batchSeq) < head.batchSeq) {
      warn(`the checkpoint was not exported: ${outcome.reason}`);
    }
    return outcome;
  };
  const enqueue = (head: ChainHead): Promise<ExportOutcome> => {
    const done = chain.then(() => run(head));
    // One export at a time per process; a failed one is reported and the next tries again.
    chain = done.catch((error: unknown) => warn(`exporting the checkpoint failed: ${(error as Error).message}`));
    return done;
  };
  const exportPending = () => {
    timer = undefined;
    if (pending === undefined) return;
    const head = pending;
    pending = undefined;
    void enqueue(head).catch(() => undefined);
  };

  return {
    committed(head) {
      if (pending === undefined || head.batchSeq > pending.batchSeq) pending = head;
      if (timer === undefined) {
        timer = setTimeout(exportPending, options.intervalMs ?? checkpointIntervalMsDefault);
        timer.unref();
      }
    },
    exportHead: enqueue,
    async flush() {
      if (timer !== undefined) clearTimeout(timer);
      exportPending();
      await chain;
    },
  };
}
