import { describe, expect, it } from 'vitest';
import { TieredQueue } from './tiered-queue';

interface Entry {
  readonly tierIndex: number;
  readonly label: number;
  waiting: boolean;
}

const entry = (tierIndex: number, label: number): Entry => ({ tierIndex, label, waiting: true });

function take(queue: TieredQueue<Entry>): Entry | undefined {
  const first = queue.first();
  if (first === undefined) return undefined;
  first.waiting = false;
  queue.markRemoved(first);
  return first;
}

describe('TieredQueue', () => {
  it('takes lower tier indexes first and is FIFO within a tier', () => {
    const queue = new TieredQueue<Entry>(4);
    [entry(3, 1), entry(3, 2), entry(0, 3), entry(1, 4), entry(0, 5)].forEach((e) => queue.push(e));
    const order = [];
    for (let e = take(queue); e !== undefined; e = take(queue)) order.push(e.label);
    expect(order).toEqual([3, 5, 4, 1, 2]);
    expect(queue.size).toBe(0);
  });

  it('keeps order and size through many out-of-order removals and compactions', () => {
    const queue = new TieredQueue<Entry>(2);
    const live: Entry[] = [];
    for (let i = 0; i < 10_000; i++) {
      const e = entry(i % 2, i);
      queue.push(e);
      live.push(e);
      if (i % 3 === 0) {
        // Remove an entry from the middle, as a timeout or abort does.
        const victim = live.splice(Math.floor(live.length / 2), 1)[0] as Entry;
        victim.waiting = false;
        queue.markRemoved(victim);
      }
    }
    expect(queue.size).toBe(live.length);
    const expected = [...live.filter((e) => e.tierIndex === 0), ...live.filter((e) => e.tierIndex === 1)].map(
      (e) => e.label,
    );
    expect([...queue.waiting()].map((e) => e.label)).toEqual(expected);
    const taken = [];
    for (let e = take(queue); e !== undefined; e = take(queue)) taken.push(e.label);
    expect(taken).toEqual(expected);
  });

  it('drains every waiting entry', () => {
    const queue = new TieredQueue<Entry>(2);
    queue.push(entry(1, 1));
    queue.push(entry(0, 2));
    expect(queue.drain().map((e) => e.label)).toEqual([2, 1]);
    expect(queue.size).toBe(0);
    expect(queue.first()).toBeUndefined();
  });
});
