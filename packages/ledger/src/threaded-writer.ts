import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { LedgerOverloadedError, LedgerUnavailableError } from './errors';
import { queueOpsMax } from './limits';
import type { LedgerOp, OpResult } from './types';
import type { ChainHead } from './writer';
import {
  errorFromWire,
  toWireOp,
  type FromWriterThread,
  type ToWriterThread,
  type WireOp,
  type WriterStats,
  type WriterThreadData,
} from './writer-thread-protocol';

/**
 * The writer thread as an entry of a service's bundle (`bundleEntries({ ...writerThreadBundle })`): built
 * beside the bundled service that starts it, where {@link writerThreadEntry} finds it.
 */
export const writerThreadBundle = {
  'ledger-writer-thread': fileURLToPath(new URL('./writer-thread.ts', import.meta.url)),
};

/**
 * Where the writer thread starts from: the bundled file beside the running bundle when there is one
 * (a service run from `npm run build`'s output carries no TypeScript loader), else the source
 * through tsx (tests, `tsx` runs).
 */
export function writerThreadEntry(): URL {
  const main = process.argv[1];
  if (main !== undefined && main.endsWith('.mjs')) {
    const bundled = join(dirname(main), 'ledger-writer-thread.mjs');
    if (existsSync(bundled)) return pathToFileURL(bundled);
  }
  return new URL('./writer-thread-boot.mjs', import.meta.url);
}

export interface ThreadedWriterOptions {
  databaseUrl: string;
  hmacKey: Buffer;
  batchIntervalMs?: number;
  onCommit?: (head: ChainHead) => void;
  /** The thread's entry file (default: {@link writerThreadEntry}). */
  entry?: URL;
}

interface Waiting {
  resolve: (results: OpResult[]) => void;
  reject: (error: Error) => void;
  opCount: number;
}

/**
 * The batch writer on a worker thread of its own, with its own PostgreSQL connections: the
 * requests' thread only validates ops and passes them over. Deciding a batch, the row and chain
 * MACs, encoding the statement and reading its answer take about a quarter of a millisecond of CPU
 * per capped request, and on the requests' thread the answer also waited behind every request's
 * work. Same contract as {@link BatchWriter}: results in order, failures as results, ids make every
 * retry safe. If the thread dies, every submission it held is refused as unavailable (some may have
 * committed: a retry with the same ids is answered as a duplicate) and the next submit starts a new
 * thread. Needs a PostgreSQL server: PGlite lives in one thread's memory.
 */
export class ThreadedWriter {
  private worker: Worker | undefined;
  private readonly waiting = new Map<number, Waiting>();
  private nextId = 1;
  private outgoing: { id: number; ops: WireOp[] }[] = [];
  private flushScheduled = false;
  private waitingOps = 0;
  private closed = false;
  private closing: Promise<void> | undefined;
  stats: WriterStats = {
    batches: 0,
    ops: 0,
    retries: 0,
    splits: 0,
    cached: 0,
    loadMs: 0,
    writeMs: 0,
    statementMs: 0,
    statementMaxMs: 0,
  };

  constructor(private readonly options: ThreadedWriterOptions) {
    this.start();
  }

  submit(ops: LedgerOp[]): Promise<OpResult[]> {
    if (this.closed) return Promise.reject(new LedgerUnavailableError('The ledger is closed.'));
    if (ops.length === 0) return Promise.resolve([]);
    // Counted here too, so the message channel never holds more than the thread would queue.
    if (this.waitingOps + ops.length > queueOpsMax)
      return Promise.reject(
        new LedgerOverloadedError(
          `The ledger has ${this.waitingOps} operations waiting; retry shortly with the same ids.`,
        ),
      );
    this.start();
    if (this.waiting.size === 0) this.worker?.ref();
    const id = this.nextId++;
    this.outgoing.push({ id, ops: ops.map(toWireOp) });
    this.waitingOps += ops.length;
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      // Every submit of this turn of the loop (requests admitted by one read of many sockets) in one message.
      setImmediate(() => this.flush());
    }
    return new Promise((resolve, reject) => this.waiting.set(id, { resolve, reject, opCount: ops.length }));
  }

  /** Lets the thread finish every queued batch, then stops it. */
  close(): Promise<void> {
    this.closed = true;
    this.closing ??= (async () => {
      this.flush();
      const worker = this.worker;
      if (worker === undefined) return;
      worker.ref();
      await new Promise<void>((resolve) => {
        worker.once('exit', () => resolve());
        worker.postMessage({ type: 'close' } satisfies ToWriterThread);
      });
    })();
    return this.closing;
  }

  private flush(): void {
    this.flushScheduled = false;
    if (this.outgoing.length === 0 || this.worker === undefined) return;
    const message: ToWriterThread = { type: 'submit', submissions: this.outgoing };
    this.outgoing = [];
    this.worker.postMessage(message);
  }

  private start(): void {
    if (this.worker !== undefined || this.closed) return;
    const data: WriterThreadData = {
      databaseUrl: this.options.databaseUrl,
      hmacKey: new Uint8Array(this.options.hmacKey),
      batchIntervalMs: this.options.batchIntervalMs,
    };
    const worker = new Worker(this.options.entry ?? writerThreadEntry(), {
      workerData: data,
      // Its own young generation stays small: what it allocates lives for one batch.
      resourceLimits: { maxYoungGenerationSizeMb: 8 },
    });
    this.worker = worker;
    worker.unref();
    worker.on('message', (message: FromWriterThread) => {
      if (message.type !== 'settled') return;
      this.stats = message.stats;
      if (message.head !== undefined) this.options.onCommit?.(message.head);
      for (const entry of message.settled) {
        const waiting = this.waiting.get(entry.id);
        if (waiting === undefined) continue;
        this.waiting.delete(entry.id);
        this.waitingOps -= waiting.opCount;
        // An idle thread does not keep the process alive; one with work does.
        if (this.waiting.size === 0) worker.unref();
        if (entry.results !== undefined) waiting.resolve(entry.results);
        else waiting.reject(errorFromWire(entry.error ?? { name: 'Error', message: 'no result' }));
      }
    });
    worker.on('error', (error) => this.stopped(worker, error));
    worker.on('exit', (code) => this.stopped(worker, new Error(`it exited with code ${code}`)));
  }

  /** The thread is gone: whatever it held is refused, and the next submit starts another. */
  private stopped(worker: Worker, cause: Error): void {
    if (this.worker !== worker) return;
    this.worker = undefined;
    const failure = new LedgerUnavailableError(
      `The ledger's writer thread stopped (${cause.message.slice(0, 300)}); operations it held may or may not have committed. Retry with the same ids: a committed one is answered as a duplicate.`,
    );
    for (const waiting of this.waiting.values()) waiting.reject(failure);
    this.waiting.clear();
    this.waitingOps = 0;
    this.outgoing = [];
  }

  /** Kills the thread as a crash would (tests). */
  async crashForTests(): Promise<void> {
    await this.worker?.terminate();
  }
}
