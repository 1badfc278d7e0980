import { expect } from 'vitest';

/** Asserts |actual - expected| <= relative·|expected| + absolute, naming the quantity and both numbers. */
export function expectClose(
  actual: number,
  expected: number,
  what: string,
  { relative = 0, absolute = 0 }: { relative?: number; absolute?: number },
): void {
  if (actual === expected) return;
  const error = Math.abs(actual - expected);
  const bound = relative * Math.abs(expected) + absolute;
  expect(
    error,
    `${what}: ours ${actual}, reference ${expected} (error ${error}, allowed ${bound})`,
  ).toBeLessThanOrEqual(bound);
}
