import type { FingerprintedCode } from './winnow';

/**
 * Shared runs: where fingerprints only say "these two pieces share a k-gram here", a run is the
 * whole stretch of equal tokens around it, found by extending each shared fingerprint left and
 * right (seed and extend). Up to w - 1 tokens at each end of a copied block lie outside every
 * selected k-gram; runs cover them, so merged lines are credited to the end of what was copied.
 * Only fingerprints present on both sides seed a run, so fingerprints removed as boilerplate
 * (`withoutIgnored`) start none.
 */
export interface SharedRun {
  /** Index of the run's first token in the completion piece. */
  readonly completionStart: number;
  /** Index of the run's first token in the merged piece. */
  readonly mergedStart: number;
  /** Tokens in the run: at least k. */
  readonly length: number;
}

/** A hash repeated more often in one completion piece seeds from its first this many positions only. */
export const runSeedsPerHashMax = 64;

/** The maximal runs of equal tokens around the fingerprints two pieces share, in merged order. */
export function sharedRuns(completion: FingerprintedCode, merged: FingerprintedCode): SharedRun[] {
  const positionsByHash = new Map<number, number[]>();
  for (const { hash, position } of completion.fingerprints) {
    const positions = positionsByHash.get(hash) ?? [];
    if (positions.length === 0) positionsByHash.set(hash, positions);
    if (positions.length < runSeedsPerHashMax) positions.push(position);
  }
  const runs: SharedRun[] = [];
  // Per diagonal (merged index - completion index), where its last run ends in the merged piece.
  const diagonalEnds = new Map<number, number>();
  for (const { hash, position: mergedSeed } of merged.fingerprints) {
    for (const completionSeed of positionsByHash.get(hash) ?? []) {
      const diagonal = mergedSeed - completionSeed;
      if (mergedSeed < (diagonalEnds.get(diagonal) ?? -1)) continue;
      const run = extend(completion, merged, completionSeed, mergedSeed);
      if (run.length < merged.k) continue; // a hash collision, not equal tokens
      diagonalEnds.set(diagonal, run.mergedStart + run.length);
      runs.push(run);
    }
  }
  return runs;
}

function extend(completion: FingerprintedCode, merged: FingerprintedCode, completionSeed: number, mergedSeed: number) {
  const same = (offset: number) => {
    const completionToken = completion.tokens[completionSeed + offset];
    const mergedToken = merged.tokens[mergedSeed + offset];
    return completionToken !== undefined && mergedToken !== undefined && completionToken.symbol === mergedToken.symbol;
  };
  let back = 0;
  while (same(-back - 1)) back += 1;
  let forward = 0;
  while (same(forward)) forward += 1;
  return { completionStart: completionSeed - back, mergedStart: mergedSeed - back, length: back + forward };
}

/** The lines of the merged piece's tokens inside the runs, ascending. */
export function mergedLinesOfRuns(merged: FingerprintedCode, runs: readonly SharedRun[]): number[] {
  const lines = new Set<number>();
  for (const run of runs) {
    for (let index = run.mergedStart; index < run.mergedStart + run.length; index += 1) {
      lines.add(merged.tokens[index]!.line);
    }
  }
  return [...lines].sort((a, b) => a - b);
}

/** How many tokens of a completion piece lie in at least one of the runs (found against any merged pieces). */
export function completionTokensInRuns(completion: FingerprintedCode, runs: readonly SharedRun[]): number {
  const covered = new Uint8Array(completion.tokens.length);
  for (const run of runs) covered.fill(1, run.completionStart, run.completionStart + run.length);
  return covered.reduce((sum, mark) => sum + mark, 0);
}
