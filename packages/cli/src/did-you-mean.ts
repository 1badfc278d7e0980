/** Typos worth guessing at are one or two edits away; more, and the guess is more likely wrong than helpful. */
const suggestionDistanceMax = 2;
/** And the guess keeps more than 40% of the longer word, so "ab" never suggests "xy". */
const suggestionSimilarityMin = 0.4;

/** Edits (insert, delete, replace, swap two neighbours) that turn `a` into `b` (optimal string alignment). */
export function editDistance(a: string, b: string): number {
  const rows: number[][] = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  const at = (i: number, j: number) => rows[i]?.[j] ?? Number.POSITIVE_INFINITY;
  for (let i = 1; i <= a.length; i++) {
    const row = rows[i] as number[];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      row[j] = Math.min(at(i - 1, j) + 1, at(i, j - 1) + 1, at(i - 1, j - 1) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        row[j] = Math.min(at(i, j), at(i - 2, j - 2) + 1);
    }
  }
  return at(a.length, b.length);
}

/** The candidates nearest to `word` that are near enough to be what was meant, sorted; none when nothing is. */
export function didYouMean(word: string, candidates: readonly string[]): string[] {
  let best: string[] = [];
  let bestDistance = suggestionDistanceMax + 1;
  for (const candidate of new Set(candidates)) {
    const distance = editDistance(word, candidate);
    const length = Math.max(word.length, candidate.length);
    if ((length - distance) / length <= suggestionSimilarityMin || distance > bestDistance) continue;
    if (distance < bestDistance) best = [];
    bestDistance = distance;
    best.push(candidate);
  }
  return best.sort();
}
