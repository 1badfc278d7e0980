/**
 * A signal that aborts when any of `sources` does, with that source's reason: what
 * `AbortSignal.any` does, without its weak references. Every request made two of those, and their
 * weak-reference bookkeeping cost the gateway about 25 µs and a share of each GC pause per request.
 * For sources that live no longer than the request (its own controllers): the listeners left on
 * them go when the request's objects do.
 */
export function linkedSignal(sources: readonly AbortSignal[]): AbortSignal {
  const linked = new AbortController();
  for (const source of sources) {
    if (source.aborted) {
      linked.abort(source.reason);
      return linked.signal;
    }
  }
  // No `signal` option to unhook the others: Node implements it with weak references too.
  for (const source of sources) source.addEventListener('abort', () => linked.abort(source.reason), { once: true });
  return linked.signal;
}
