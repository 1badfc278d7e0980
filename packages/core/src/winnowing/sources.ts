import { mergedLineKey } from './credit';
import { addedLinesByPath, extractAddedLines } from './extract-added-lines';
import { extractCodeBlocks } from './extract-code-blocks';
import type { WinnowingOptions } from './options';
import { mergedLinesOfRuns, sharedRuns } from './runs';
import { matchedLines } from './score';
import { fingerprintLines, type FingerprintedCode } from './winnow';

/** The fingerprinted added lines of one file of a diff; token lines are new-file line numbers. */
export interface FingerprintedFile {
  readonly path: string;
  readonly code: FingerprintedCode;
}

/** Fingerprints each code block of a completion apart (no k-gram spans two blocks); token lines are completion lines. */
export function fingerprintCompletion(completion: string, options?: Partial<WinnowingOptions>): FingerprintedCode[] {
  return extractCodeBlocks(completion).map((block) => fingerprintLines(block.lines, options));
}

/**
 * Fingerprints the added lines of a diff, each file apart. `path` names the file of a GitHub
 * `patch` field, which has no headers; a whole git diff names its own.
 */
export function fingerprintDiff(diff: string, options?: Partial<WinnowingOptions>, path?: string): FingerprintedFile[] {
  const byPath = addedLinesByPath(extractAddedLines(diff, path));
  return [...byPath].map(([filePath, lines]) => ({ path: filePath, code: fingerprintLines(lines, options) }));
}

/** The merged lines (`mergedLineKey`) covered by fingerprints in `hashes`: what one completion accounts for. */
export function matchedMergedLines(files: readonly FingerprintedFile[], hashes: ReadonlySet<number>): string[] {
  return files.flatMap(({ path, code }) => matchedLines(code, hashes).map((line) => mergedLineKey(path, line)));
}

/**
 * The merged lines (`mergedLineKey`) inside runs shared with the completion: like
 * `matchedMergedLines`, but to the ends of each copied stretch (see `sharedRuns`). Pass pieces
 * already stripped of ignored fingerprints on both sides.
 */
export function mergedLinesSharedWith(
  files: readonly FingerprintedFile[],
  completion: readonly FingerprintedCode[],
): string[] {
  return files.flatMap(({ path, code }) => {
    const runs = completion.flatMap((piece) => sharedRuns(piece, code));
    return mergedLinesOfRuns(code, runs).map((line) => mergedLineKey(path, line));
  });
}
