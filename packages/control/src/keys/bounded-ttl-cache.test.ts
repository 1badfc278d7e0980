import { describe, expect, it } from 'vitest';
import { BoundedTtlCache } from './bounded-ttl-cache';

describe('the bounded TTL cache behind key lookups', () => {
  it('answers until the TTL from when the value was read, not when it was stored', () => {
    const cache = new BoundedTtlCache<string>(1_000, 10);
    cache.set('a', 'row', 5_000);
    expect(cache.get('a', 5_999)).toBe('row');
    expect(cache.get('a', 6_000)).toBeUndefined();
    expect(cache.size).toBe(0);
  });

  it('keeps the newer read when an older one finishes after it, and tells the age of what it answers', () => {
    const cache = new BoundedTtlCache<string>(1_000, 10);
    cache.set('a', 'revoked', 5_400);
    cache.set('a', 'active', 5_000);
    expect(cache.getWithAge('a', 5_900)).toEqual({ value: 'revoked', ageMs: 500 });
    cache.delete('a');
    expect(cache.get('a', 5_900)).toBeUndefined();
  });

  it('treats a clock that went backwards as stale, and stores nothing with a TTL of 0', () => {
    const cache = new BoundedTtlCache<string>(1_000, 10);
    cache.set('a', 'row', 5_000);
    expect(cache.get('a', 4_999)).toBeUndefined();
    const off = new BoundedTtlCache<string>(0, 10);
    off.set('a', 'row', 0);
    expect(off.get('a', 0)).toBeUndefined();
  });

  it('holds at most entriesMax, dropping the oldest stored first (a refreshed entry counts as new)', () => {
    const cache = new BoundedTtlCache<number>(1_000, 3);
    for (const [index, key] of ['a', 'b', 'c'].entries()) cache.set(key, index, 0);
    cache.set('a', 9, 1);
    cache.set('d', 3, 2);
    expect(cache.size).toBe(3);
    expect(cache.get('b', 2)).toBeUndefined();
    expect([cache.get('a', 2), cache.get('c', 2), cache.get('d', 2)]).toEqual([9, 2, 3]);
    for (let index = 0; index < 10_000; index += 1) cache.set(`flood-${index}`, index, 3);
    expect(cache.size).toBe(3);
  });
});
