// The ledger's batch writer on a thread of its own (see threaded-writer.ts): it owns a small pool
// of PostgreSQL connections, decides, encodes and writes every batch, and answers with each
// submission's results. Its event loop does nothing else, so a batch's answer is read as soon as
// PostgreSQL sends it, whatever the requests' thread is doing.
import { openDatabase } from '@tokenwise/db';
import { getHeapStatistics } from 'node:v8';
import { parentPort, workerData } from 'node:worker_threads';
import { BatchWriter, type ChainHead } from './writer';
import {
  fromWireOp,
  type FromWriterThread,
  type SettledSubmission,
  type ToWriterThread,
  type WriterThreadData,
} from './writer-thread-protocol';

if (parentPort === null)
  throw new Error('writer-thread.ts runs as a worker thread (new ThreadedWriter), not on its own.');
const port = parentPort;
const data = workerData as WriterThreadData;
// Two connections: an optimistic batch's read and write, or a locked batch's transaction.
const database = await openDatabase({ url: data.databaseUrl, poolSize: 2, idleTimeoutMs: 300_000 });
let head: ChainHead | undefined;
const writer = new BatchWriter({
  db: database.db,
  hmacKey: Buffer.from(data.hmacKey),
  clock: () => new Date(),
  batchIntervalMs: data.batchIntervalMs,
  onCommit: (committed) => {
    if (head === undefined || committed.batchSeq > head.batchSeq) head = committed;
  },
});

// Answers settled in the same turn of the loop travel in one message.
let settled: SettledSubmission[] = [];
let flushing = false;
function settle(entry: SettledSubmission): void {
  settled.push(entry);
  if (flushing) return;
  flushing = true;
  queueMicrotask(() => {
    flushing = false;
    const heap = getHeapStatistics();
    const message: FromWriterThread = {
      type: 'settled',
      settled,
      head,
      stats: { ...writer.stats, thread: { heapUsedBytes: heap.used_heap_size, heapTotalBytes: heap.total_heap_size } },
    };
    settled = [];
    port.postMessage(message);
  });
}

port.on('message', (message: ToWriterThread) => {
  if (message.type === 'close') {
    void (async () => {
      await writer.close();
      await database.close();
      port.postMessage({ type: 'closed' } satisfies FromWriterThread);
      port.close();
    })();
    return;
  }
  for (const { id, ops } of message.submissions) {
    let submitted: ReturnType<BatchWriter['submit']>;
    try {
      submitted = writer.submit(ops.map(fromWireOp));
    } catch (error) {
      submitted = Promise.reject(error as Error);
    }
    submitted.then(
      (results) => settle({ id, results }),
      (error: unknown) =>
        settle({
          id,
          error:
            error instanceof Error
              ? { name: error.name, message: error.message }
              : { name: 'Error', message: String(error) },
        }),
    );
  }
});
