/**
 * A Map whose entries expire `ttlMs` after they were stored and which holds at most `entriesMax`,
 * dropping the oldest stored first. Time comes from the caller so tests can drive it.
 */
export class BoundedTtlCache<V> {
  readonly #entries = new Map<string, { value: V; storedAtMs: number }>();

  constructor(
    readonly ttlMs: number,
    readonly entriesMax: number,
  ) {}

  get size(): number {
    return this.#entries.size;
  }

  /** The value if it was stored less than `ttlMs` ago (a clock that went backwards counts as stale). */
  get(key: string, nowMs: number): V | undefined {
    return this.getWithAge(key, nowMs)?.value;
  }

  /** The value and how long ago it was stored, if that is less than `ttlMs`. */
  getWithAge(key: string, nowMs: number): { value: V; ageMs: number } | undefined {
    const entry = this.#entries.get(key);
    if (entry === undefined) return undefined;
    const ageMs = nowMs - entry.storedAtMs;
    if (ageMs >= 0 && ageMs < this.ttlMs) return { value: entry.value, ageMs };
    this.#entries.delete(key);
    return undefined;
  }

  /**
   * Stores as of `storedAtMs`: pass when the data was read, not when the read finished. A read that
   * started before the stored one (and finished after it) is older data and changes nothing.
   */
  set(key: string, value: V, storedAtMs: number): void {
    if (this.ttlMs <= 0) return;
    const current = this.#entries.get(key);
    if (current !== undefined && current.storedAtMs > storedAtMs) return;
    this.#entries.delete(key);
    this.#entries.set(key, { value, storedAtMs });
    while (this.#entries.size > this.entriesMax) {
      const oldest = this.#entries.keys().next();
      if (oldest.done === true) break;
      this.#entries.delete(oldest.value);
    }
  }

  delete(key: string): void {
    this.#entries.delete(key);
  }

  clear(): void {
    this.#entries.clear();
  }
}
