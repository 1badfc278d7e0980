import fc from 'fast-check';
import { expect, it } from 'vitest';
import { boundedMapSlack, setBounded } from './bounded-map';

it('keeps at most max plus an eighth, never drops any of the newest max, and a set key counts as new', () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 64 }),
      fc.array(fc.integer({ min: 0, max: 200 }), { maxLength: 600 }),
      (max, keys) => {
        const map = new Map<number, number>();
        const order: number[] = [];
        keys.forEach((key, index) => {
          setBounded(map, key, index, max);
          const at = order.indexOf(key);
          if (at >= 0) order.splice(at, 1);
          order.push(key);
          expect(map.size).toBeLessThanOrEqual(max + boundedMapSlack(max));
          // The newest max distinct keys are all there, with their latest values.
          for (const recent of order.slice(-max)) expect(map.has(recent)).toBe(true);
          expect(map.get(key)).toBe(index);
        });
        // What is kept is always the newest keys, oldest first.
        expect([...map.keys()]).toEqual(order.slice(-map.size));
      },
    ),
  );
});
