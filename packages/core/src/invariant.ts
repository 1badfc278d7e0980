/** Thrown when a condition that must always hold does not: a bug, never bad input. */
export class InvariantError extends Error {
  override readonly name = 'InvariantError';
}

/** Asserts what must hold; the message names the broken condition. */
export function invariant(condition: unknown, message: string): asserts condition {
  if (!condition) throw new InvariantError(message);
}
