import { describe, expect, it } from 'vitest';
import { linkedSignal } from './abort';

describe('linkedSignal', () => {
  it('aborts when any source aborts, with that source reason, and only once', () => {
    const client = new AbortController();
    const deadline = new AbortController();
    const linked = linkedSignal([client.signal, deadline.signal]);
    const seen: unknown[] = [];
    linked.addEventListener('abort', () => seen.push(linked.reason));
    expect(linked.aborted).toBe(false);
    deadline.abort(new Error('deadline'));
    client.abort(new Error('client gone'));
    expect(linked.aborted).toBe(true);
    expect((linked.reason as Error).message).toBe('deadline');
    expect(seen).toHaveLength(1);
  });

  it('is aborted from the start when a source already is', () => {
    const gone = new AbortController();
    gone.abort('gone');
    const linked = linkedSignal([new AbortController().signal, gone.signal]);
    expect(linked.aborted).toBe(true);
    expect(linked.reason).toBe('gone');
  });

  it('stays open while no source aborts', () => {
    const linked = linkedSignal([new AbortController().signal, new AbortController().signal]);
    expect(linked.aborted).toBe(false);
  });
});
