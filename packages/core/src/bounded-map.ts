/**
 * Sets `key` as the newest entry of an insertion-ordered map kept near `max` entries: once it holds
 * an eighth more, the oldest are dropped in one pass down to `max`. Dropping one entry per insert
 * walks past every earlier deletion's hole at the front of the map (V8 compacts them only on
 * rehash), which costs microseconds per insert at 10,000 entries and tens at 100,000.
 */
export function setBounded<K, V>(map: Map<K, V>, key: K, value: V, max: number): void {
  map.delete(key);
  map.set(key, value);
  if (map.size <= max + boundedMapSlack(max)) return;
  let excess = map.size - max;
  for (const oldest of map.keys()) {
    if (excess-- <= 0) break;
    map.delete(oldest);
  }
}

/** How far past `max` a map kept by {@link setBounded} may grow before its oldest entries go. */
export function boundedMapSlack(max: number): number {
  return Math.max(1, Math.floor(max / 8));
}
