import type { Dispatcher } from 'undici';
import type { CancelSignal } from './abort';

/** Bytes queued unread before the model server is paused (TCP then holds the rest). */
const queuedBytesMax = 1 << 20;

/**
 * A model server's response body, taken from undici's dispatch callbacks without a stream in
 * between: a chunk that arrives while the relay waits goes straight to it, others queue. A stream
 * of a few hundred small chunks per answer costs a fraction of what a Readable and its async
 * iterator cost (bench:gateway). Leaving the loop early (break, throw) aborts the request, so a
 * half-read response never goes back to the connection pool.
 */
export class UpstreamBody implements AsyncIterableIterator<Buffer> {
  #chunks: Buffer[] = [];
  #queuedBytes = 0;
  #ended = false;
  #error: Error | undefined;
  #waiting: { resolve: (result: IteratorResult<Buffer>) => void; reject: (error: Error) => void } | undefined;
  #controller: Dispatcher.DispatchController | undefined;

  constructor(controller: Dispatcher.DispatchController) {
    this.#controller = controller;
  }

  /** @internal from the dispatch handler */
  push(chunk: Buffer): void {
    if (this.#ended || this.#error !== undefined) return;
    const waiting = this.#waiting;
    if (waiting !== undefined) {
      this.#waiting = undefined;
      waiting.resolve({ value: chunk, done: false });
      return;
    }
    this.#chunks.push(chunk);
    this.#queuedBytes += chunk.length;
    if (this.#queuedBytes > queuedBytesMax) this.#controller?.pause();
  }

  /** @internal */
  end(): void {
    this.#ended = true;
    this.#controller = undefined;
    const waiting = this.#waiting;
    this.#waiting = undefined;
    waiting?.resolve({ value: undefined, done: true });
  }

  /** @internal */
  fail(error: Error): void {
    if (this.#ended) return;
    this.#error ??= error;
    this.#controller = undefined;
    const waiting = this.#waiting;
    this.#waiting = undefined;
    waiting?.reject(error);
  }

  next(): Promise<IteratorResult<Buffer>> {
    if (this.#chunks.length > 0) {
      const chunks = this.#chunks;
      this.#chunks = [];
      this.#queuedBytes = 0;
      if (this.#controller?.paused === true) this.#controller.resume();
      return Promise.resolve({
        value: chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks),
        done: false,
      });
    }
    if (this.#error !== undefined) return Promise.reject(this.#error);
    if (this.#ended) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve, reject) => {
      this.#waiting = { resolve, reject };
    });
  }

  /** The reader stopped early: the rest is not wanted, and the connection must not be reused. */
  return(): Promise<IteratorResult<Buffer>> {
    if (!this.#ended && this.#error === undefined) {
      const error = new Error('the response body was not read to its end');
      this.#controller?.abort(error);
      this.fail(error);
    }
    this.#chunks = [];
    return Promise.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): this {
    return this;
  }
}

export interface UpstreamResponse {
  statusCode: number;
  body: UpstreamBody;
}

/**
 * Sends one request through `dispatcher` and resolves with the status and the body once the
 * headers are in; rejects on a connection error or when `signal` aborts first. Aborting `signal`
 * later fails the body.
 */
export function requestUpstream(
  dispatcher: Dispatcher,
  options: {
    method: 'POST';
    path: string;
    headers: Record<string, string>;
    body: string;
    signal: CancelSignal;
    headersTimeout: number;
    bodyTimeout: number;
  },
): Promise<UpstreamResponse> {
  const { signal, ...dispatchOptions } = options;
  return new Promise((resolve, reject) => {
    if (signal.aborted) {
      reject(signal.reason instanceof Error ? signal.reason : new Error('aborted'));
      return;
    }
    let body: UpstreamBody | undefined;
    let answered = false;
    let controller: Dispatcher.DispatchController | undefined;
    const onAbort = () => controller?.abort(signal.reason instanceof Error ? signal.reason : new Error('aborted'));
    signal.addEventListener('abort', onAbort, { once: true });
    const finish = () => signal.removeEventListener('abort', onAbort);
    dispatcher.dispatch(dispatchOptions, {
      onRequestStart(started) {
        controller = started;
        if (signal.aborted) onAbort();
      },
      onResponseStart(started, statusCode) {
        // 1xx informational answers come before the real one.
        if (statusCode < 200 || answered) return;
        answered = true;
        body = new UpstreamBody(started);
        resolve({ statusCode, body });
      },
      onResponseData(_controller, chunk) {
        body?.push(chunk);
      },
      onResponseEnd() {
        finish();
        body?.end();
      },
      onResponseError(_controller, error) {
        finish();
        if (!answered) {
          answered = true;
          reject(error);
        } else body?.fail(error);
      },
    });
  });
}
