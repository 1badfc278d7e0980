// The issue #16 figure on the labelled set's real code: a 10,000-line merged diff against 1,000
// completions, run the way the commit-linkage plugin runs it (fingerprint the diff's added lines
// and its base side, ignore base and frequent fingerprints, score each completion's containment
// and find the merged lines it accounts for). Called by winnowing-bench.ts.
//
// The set's 15 release diffs add 2,232 lines; the 10,000-line diff repeats them under new paths
// (identical code dedups in the hash set, so the merged set is the set's own size, not 4.5 times
// it). The 1,000 completions cycle the set's 434 labelled completions.
import { performance } from 'node:perf_hooks';
import {
  allWithoutIgnored,
  containment,
  extractAddedLines,
  fingerprintCompletion,
  fingerprintDiff,
  fingerprintHashes,
  fingerprintLines,
  frequentFingerprints,
  mergedLinesSharedWith,
  type FingerprintedCode,
} from '../src/index';
import { baseSideLines, defaultMatcherPolicy, loadLabelledSet } from '../src/winnowing/fixtures/labelled/labelled-set';

/** One big diff of at least `addedLinesMin` added lines, the set's release diffs repeated under distinct paths. */
function bigDiff(diffs: readonly string[], addedLinesMin: number): { diff: string; addedLines: number } {
  const parts: string[] = [];
  let addedLines = 0;
  for (let round = 0; addedLines < addedLinesMin; round += 1) {
    for (const diff of diffs) {
      if (addedLines >= addedLinesMin) break;
      parts.push(diff.replace(/^(diff --git a\/|--- a\/|\+\+\+ b\/)/gm, `$1r${round}/`));
      addedLines += extractAddedLines(diff).length;
    }
  }
  return { diff: parts.join(''), addedLines };
}

const percentile = (sorted: readonly number[], share: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(share * sorted.length))]!;
const mb = (bytes: number) => Number((bytes / 1024 / 1024).toFixed(1));

export function labelledBench(diffLinesMin: number, completionCount: number) {
  const set = loadLabelledSet();
  const { diff, addedLines } = bigDiff(
    set.merges.map((merge) => merge.diff),
    diffLinesMin,
  );
  const completions = Array.from(
    { length: completionCount },
    (_, index) => set.cases[index % set.cases.length]!.completion,
  );
  const { options, frequentDocumentsMin } = defaultMatcherPolicy;
  const heapBefore = process.memoryUsage().heapUsed;
  const started = performance.now();

  const merged = fingerprintDiff(diff, options);
  const mergedHashes = fingerprintHashes(merged.map((file) => file.code));
  const base = fingerprintHashes([...baseSideLines(diff).values()].map((lines) => fingerprintLines(lines, options)));
  const diffMs = performance.now() - started;

  const perCompletionMs: number[] = [];
  const pieces: FingerprintedCode[][] = [];
  const completionStarted = performance.now();
  for (const text of completions) {
    const before = performance.now();
    pieces.push(fingerprintCompletion(text, options));
    perCompletionMs.push(performance.now() - before);
  }
  const frequent = frequentFingerprints(
    pieces.map((piece) => fingerprintHashes(piece)),
    frequentDocumentsMin,
  );
  let creditedLines = 0;
  pieces.forEach((piece, index) => {
    const before = performance.now();
    const kept = allWithoutIgnored(allWithoutIgnored(piece, base), frequent);
    const score = containment(kept, mergedHashes);
    if (score.matchedFingerprints > 0) creditedLines += mergedLinesSharedWith(merged, kept).length;
    perCompletionMs[index]! += performance.now() - before;
  });
  const completionsMs = performance.now() - completionStarted;
  const totalMs = performance.now() - started;
  const heapAfter = process.memoryUsage().heapUsed;

  const count = (pieceList: readonly FingerprintedCode[]) =>
    pieceList.reduce((sum, p) => sum + p.fingerprints.length, 0);
  const diffFingerprints = count(merged.map((file) => file.code));
  const completionFingerprints = pieces.reduce((sum, piece) => sum + count(piece), 0);
  const sorted = [...perCompletionMs].sort((a, b) => a - b);
  return {
    diff: {
      addedLines,
      diffLines: diff.split('\n').length,
      tokens: merged.reduce((sum, file) => sum + file.code.tokens.length, 0),
      fingerprints: diffFingerprints,
      distinctHashes: mergedHashes.size,
      baseHashes: base.size,
      ms: Math.round(diffMs),
    },
    completions: { count: completionCount, fingerprints: completionFingerprints, ms: Math.round(completionsMs) },
    fingerprintsPerSecond: Math.round((diffFingerprints + completionFingerprints) / (totalMs / 1000)),
    totalMs: Math.round(totalMs),
    perCompletionMs: {
      p50: Number(percentile(sorted, 0.5).toFixed(3)),
      p99: Number(percentile(sorted, 0.99).toFixed(3)),
      max: Number(sorted.at(-1)!.toFixed(3)),
    },
    creditedMergedLines: creditedLines,
    memory: {
      heapGrowthMb: mb(heapAfter - heapBefore),
      heapUsedMb: mb(heapAfter),
      rssMb: mb(process.memoryUsage().rss),
    },
  };
}
