/** A seeded 32-bit generator: cheap, allocation-free, identical on every platform. */
export interface Rng {
  /** Next unsigned 32-bit integer. */
  next(): number;
  /** Uniform float in [0, 1). */
  float(): number;
  /** Uniform integer in [min, max] (inclusive). */
  int(min: number, max: number): number;
}

/** mulberry32: good enough statistics for synthetic text, and deterministic from one uint32 seed. */
export function createRng(seed: number): Rng {
  let state = seed >>> 0;
  const next = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
  return {
    next,
    float: () => next() / 4294967296,
    int: (min, max) => min + (next() % (max - min + 1)),
  };
}

/** FNV-1a over UTF-16 code units, chained from `seed` so several strings can be folded into one hash. */
export function fnv1a(text: string, seed = 0x811c9dc5): number {
  let hash = seed >>> 0;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash;
}

/** Folds a number into a hash (for seeds and choice indexes). */
export function mixHash(hash: number, value: number): number {
  return fnv1a(String(value), hash);
}
