import type { CancelListener, CancelSignal } from './routing/types';

export type { CancelListener, CancelSignal } from './routing/types';

/**
 * An abort controller and its signal in one small object, for signals that live no longer than a
 * request. Web `AbortController`s cost the gateway about 40 µs per request (five of them, each
 * signal an EventTarget with its own listener map) and, since they live as long as the request,
 * about 4 KB per request that outlives two young collections and must be collected again in the
 * old generation. Listeners are kept in an array and called once, in the order they were added;
 * one added after the abort is never called, as on an `AbortSignal`.
 */
export class RequestAbort implements CancelSignal {
  aborted = false;
  reason: unknown = undefined;
  private listeners: CancelListener[] | undefined;

  abort(reason?: unknown): void {
    if (this.aborted) return;
    this.aborted = true;
    this.reason = reason === undefined ? new DOMException('This operation was aborted', 'AbortError') : reason;
    const listeners = this.listeners;
    this.listeners = undefined;
    if (listeners === undefined) return;
    // Every listener runs even if one throws; the first error is thrown after them all.
    let failure: { error: unknown } | undefined;
    for (const listener of listeners) {
      try {
        if (typeof listener === 'function') listener();
        else listener.handleEvent();
      } catch (error) {
        failure ??= { error };
      }
    }
    if (failure !== undefined) throw failure.error;
  }

  addEventListener(_type: 'abort', listener: CancelListener): void {
    if (this.aborted) return;
    (this.listeners ??= []).push(listener);
  }

  removeEventListener(_type: 'abort', listener: CancelListener): void {
    const listeners = this.listeners;
    if (listeners === undefined) return;
    const index = listeners.indexOf(listener);
    if (index >= 0) listeners.splice(index, 1);
  }
}

/**
 * A signal that aborts when any of `sources` does, with that source's reason: what
 * `AbortSignal.any` does, without its weak references. For sources that live no longer than the
 * request (its own controllers): the listeners left on them go when the request's objects do.
 */
export function linkedSignal(sources: readonly CancelSignal[]): RequestAbort {
  const linked = new RequestAbort();
  for (const source of sources) {
    if (source.aborted) {
      linked.abort(source.reason);
      return linked;
    }
  }
  for (const source of sources) source.addEventListener('abort', () => linked.abort(source.reason), { once: true });
  return linked;
}
