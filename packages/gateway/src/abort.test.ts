import { describe, expect, it } from 'vitest';
import { linkedSignal, RequestAbort } from './abort';

describe('RequestAbort', () => {
  it('calls each listener once, in the order added, and none added after the abort', () => {
    const abort = new RequestAbort();
    const seen: string[] = [];
    abort.addEventListener('abort', () => seen.push('first'));
    abort.addEventListener('abort', { handleEvent: () => seen.push('object') });
    abort.addEventListener('abort', () => seen.push('third'));
    abort.abort(new Error('client gone'));
    abort.abort(new Error('again'));
    abort.addEventListener('abort', () => seen.push('late'));
    expect(seen).toEqual(['first', 'object', 'third']);
    expect(abort.aborted).toBe(true);
    expect((abort.reason as Error).message).toBe('client gone');
  });

  it('does not call a removed listener', () => {
    const abort = new RequestAbort();
    const seen: string[] = [];
    const leaving = { handleEvent: () => seen.push('removed') };
    abort.addEventListener('abort', leaving);
    abort.addEventListener('abort', () => seen.push('kept'));
    abort.removeEventListener('abort', leaving);
    abort.removeEventListener('abort', () => undefined);
    abort.abort();
    expect(seen).toEqual(['kept']);
  });

  it('gives the reason an AbortController gives when none is passed', () => {
    const ours = new RequestAbort();
    const web = new AbortController();
    ours.abort();
    web.abort();
    expect(ours.reason).toBeInstanceOf(Error);
    expect((ours.reason as DOMException).name).toBe((web.signal.reason as DOMException).name);
    expect((ours.reason as Error).message).toBe((web.signal.reason as Error).message);
  });

  it('runs every listener even when one throws, then throws the first error', () => {
    const abort = new RequestAbort();
    const seen: string[] = [];
    abort.addEventListener('abort', () => {
      throw new Error('first failure');
    });
    abort.addEventListener('abort', () => seen.push('after'));
    abort.addEventListener('abort', () => {
      throw new Error('second failure');
    });
    expect(() => abort.abort()).toThrow('first failure');
    expect(seen).toEqual(['after']);
    expect(abort.aborted).toBe(true);
  });
});

describe('linkedSignal', () => {
  it('aborts when any source aborts, with that source reason, and only once', () => {
    const client = new RequestAbort();
    const deadline = new RequestAbort();
    const linked = linkedSignal([client, deadline]);
    const seen: unknown[] = [];
    linked.addEventListener('abort', () => seen.push(linked.reason));
    expect(linked.aborted).toBe(false);
    deadline.abort(new Error('deadline'));
    client.abort(new Error('client gone'));
    expect(linked.aborted).toBe(true);
    expect((linked.reason as Error).message).toBe('deadline');
    expect(seen).toHaveLength(1);
  });

  it('follows web AbortSignals as well', () => {
    const web = new AbortController();
    const linked = linkedSignal([new RequestAbort(), web.signal]);
    web.abort(new Error('stopped'));
    expect(linked.aborted).toBe(true);
    expect((linked.reason as Error).message).toBe('stopped');
  });

  it('is aborted from the start when a source already is', () => {
    const gone = new RequestAbort();
    gone.abort('gone');
    const linked = linkedSignal([new RequestAbort(), gone]);
    expect(linked.aborted).toBe(true);
    expect(linked.reason).toBe('gone');
  });

  it('stays open while no source aborts', () => {
    const linked = linkedSignal([new RequestAbort(), new AbortController().signal]);
    expect(linked.aborted).toBe(false);
  });
});
