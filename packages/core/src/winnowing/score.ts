import { ValidationError } from '../errors';
import type { Fingerprint, FingerprintedCode } from './winnow';

/**
 * Scoring over fingerprints. A completion or a merged diff is a list of fingerprinted pieces
 * (code blocks, files); sets of fingerprint hashes stand for "everything the other side has".
 */

/** The distinct fingerprint hashes of some fingerprinted pieces. */
export function fingerprintHashes(pieces: readonly FingerprintedCode[]): Set<number> {
  const hashes = new Set<number>();
  for (const piece of pieces) for (const { hash } of piece.fingerprints) hashes.add(hash);
  return hashes;
}

/**
 * Drops the fingerprints whose hash is in `ignored` (boilerplate: the base branch's content,
 * fingerprints seen in many completions), so they count neither for nor against a match.
 */
export function withoutIgnored(piece: FingerprintedCode, ignored: ReadonlySet<number>): FingerprintedCode {
  const fingerprints = piece.fingerprints.filter(({ hash }) => !ignored.has(hash));
  return { ...piece, fingerprints };
}

/** Applies `withoutIgnored` to each piece. */
export function allWithoutIgnored(
  pieces: readonly FingerprintedCode[],
  ignored: ReadonlySet<number>,
): FingerprintedCode[] {
  return pieces.map((piece) => withoutIgnored(piece, ignored));
}

export interface Containment {
  /** Distinct completion fingerprint hashes also in the merged set. */
  readonly matchedFingerprints: number;
  /** Distinct completion fingerprint hashes. */
  readonly totalFingerprints: number;
  /** matched / total in 0..1; 0 when the completion has no fingerprint. */
  readonly containment: number;
}

/**
 * Containment of a completion in a merged diff: the share of the completion's distinct
 * fingerprint hashes found in `mergedHashes`. Distinct, so code repeated inside the completion
 * counts once.
 */
export function containment(completion: readonly FingerprintedCode[], mergedHashes: ReadonlySet<number>): Containment {
  const own = fingerprintHashes(completion);
  let matched = 0;
  for (const hash of own) if (mergedHashes.has(hash)) matched += 1;
  const total = own.size;
  return { matchedFingerprints: matched, totalFingerprints: total, containment: total === 0 ? 0 : matched / total };
}

/** Fingerprints of `piece` whose hash is in `hashes`. */
export function matchingFingerprints(piece: FingerprintedCode, hashes: ReadonlySet<number>): Fingerprint[] {
  return piece.fingerprints.filter(({ hash }) => hashes.has(hash));
}

/** Marks each token covered by a k-gram of a fingerprint in `hashes`. */
function coveredTokens(piece: FingerprintedCode, hashes: ReadonlySet<number>): Uint8Array {
  const covered = new Uint8Array(piece.tokens.length);
  for (const { position } of matchingFingerprints(piece, hashes)) {
    covered.fill(1, position, Math.min(position + piece.k, piece.tokens.length));
  }
  return covered;
}

/**
 * Matched length: how many tokens of the pieces lie in a k-gram whose fingerprint is in
 * `hashes`. Overlapping k-grams count each token once.
 */
export function matchedTokenCount(pieces: readonly FingerprintedCode[], hashes: ReadonlySet<number>): number {
  let count = 0;
  for (const piece of pieces) for (const mark of coveredTokens(piece, hashes)) count += mark;
  return count;
}

/**
 * The lines (as numbered in the piece's tokens) holding a token covered by a fingerprint in
 * `hashes`, ascending: on a merged diff's file, the new-file lines a completion accounts for.
 */
export function matchedLines(piece: FingerprintedCode, hashes: ReadonlySet<number>): number[] {
  const lines = new Set<number>();
  coveredTokens(piece, hashes).forEach((mark, index) => {
    if (mark === 1) lines.add(piece.tokens[index]!.line);
  });
  return [...lines].sort((a, b) => a - b);
}

/** Limit on the documents counted in one call of `frequentFingerprints`. */
export const frequencyDocumentsMax = 1_000_000;

/**
 * The hashes found in at least `documentsMin` of the given documents (each a completion's
 * distinct hashes): boilerplate every model writes, to pass to `withoutIgnored`.
 */
export function frequentFingerprints(documents: Iterable<ReadonlySet<number>>, documentsMin: number): Set<number> {
  if (!Number.isInteger(documentsMin) || documentsMin < 1) {
    throw new ValidationError(`documentsMin must be a whole number >= 1, got ${documentsMin}.`);
  }
  const counts = new Map<number, number>();
  const frequent = new Set<number>();
  let documentCount = 0;
  for (const hashes of documents) {
    documentCount += 1;
    if (documentCount > frequencyDocumentsMax) {
      throw new ValidationError(
        `More than ${frequencyDocumentsMax} documents (frequencyDocumentsMax); count in batches.`,
      );
    }
    for (const hash of hashes) {
      const count = (counts.get(hash) ?? 0) + 1;
      counts.set(hash, count);
      if (count >= documentsMin) frequent.add(hash);
    }
  }
  return frequent;
}
