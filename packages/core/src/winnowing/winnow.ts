import { ValidationError } from '../errors';
import { invariant } from '../invariant';
import { kgramHashes } from './hash';
import { resolveWinnowingOptions, type WinnowingOptions } from './options';
import { codeTextCharsMax, tokenizeCode, type CodeToken } from './tokenize';

/**
 * Winnowing after Schleimer, Wilkerson and Aiken, "Winnowing: local algorithms for document
 * fingerprinting" (SIGMOD 2003): of every window of w consecutive k-gram hashes, keep the
 * minimum, the rightmost one on ties, and record each kept position once.
 */

/** A selected k-gram: its hash and the index of its first token. */
export interface Fingerprint {
  readonly hash: number;
  readonly position: number;
}

/** A fingerprinted piece of code: its normalised tokens and the fingerprints chosen from them. */
export interface FingerprintedCode {
  readonly tokens: readonly CodeToken[];
  readonly fingerprints: readonly Fingerprint[];
  /** The k the fingerprints were computed with: fingerprint `f` covers tokens `f.position .. f.position + k - 1`. */
  readonly k: number;
}

/** A line of source text and the number to report for it (a completion line, a new-file line of a diff). */
export interface CodeLine {
  readonly line: number;
  readonly text: string;
}

/**
 * Selects fingerprints from k-gram hashes: the rightmost minimum of each window of `w`, each
 * position once, in position order. Fewer than `w` hashes count as one window, so any code of
 * at least k tokens gets a fingerprint. O(hashes) with a monotonic queue.
 */
export function winnow(hashes: readonly number[], w: number): Fingerprint[] {
  invariant(Number.isInteger(w) && w >= 1, `w must be an integer >= 1, got ${w}`);
  const fingerprints: Fingerprint[] = [];
  if (hashes.length === 0) return fingerprints;
  const window = Math.min(w, hashes.length);
  // Positions whose hashes strictly increase from front to back: the front is the window's
  // minimum, and an equal hash to the right evicts its elders, so the minimum is the rightmost.
  const queue = new Int32Array(hashes.length);
  let head = 0;
  let tail = 0;
  let lastRecorded = -1;
  for (let position = 0; position < hashes.length; position += 1) {
    const hash = hashes[position]!;
    while (tail > head && hashes[queue[tail - 1]!]! >= hash) tail -= 1;
    queue[tail] = position;
    tail += 1;
    if (queue[head]! <= position - window) head += 1;
    if (position >= window - 1) {
      const selected = queue[head]!;
      if (selected !== lastRecorded) {
        fingerprints.push({ hash: hashes[selected]!, position: selected });
        lastRecorded = selected;
      }
    }
  }
  return fingerprints;
}

/** Fingerprints an already normalised token stream. */
export function fingerprintTokens(
  tokens: readonly CodeToken[],
  options?: Partial<WinnowingOptions>,
): FingerprintedCode {
  const { k, w } = resolveWinnowingOptions(options);
  return { tokens, fingerprints: winnow(kgramHashes(tokens, k), w), k };
}

/** Tokenises and fingerprints one piece of code; token lines count from `firstLine`. */
export function fingerprintText(text: string, options?: Partial<WinnowingOptions>, firstLine = 1): FingerprintedCode {
  return fingerprintTokens(tokenizeCode(text, firstLine), options);
}

/**
 * Tokenises lines that need not be consecutive (the added lines of a diff, a code block) into one
 * token stream, and gives each token the number of the line it came from. Each stretch of
 * consecutive line numbers is lexed apart: a comment, docstring or template literal that an added
 * line opens and a context line closes (a hunk that edits a doc comment's first line) ends with
 * its stretch, instead of swallowing every later hunk of the file.
 */
export function tokenizeLines(lines: readonly CodeLine[]): CodeToken[] {
  const joined = lines.find((entry) => entry.text.includes('\n'));
  if (joined !== undefined) {
    throw new ValidationError(
      `Line ${joined.line} holds a line break; split the text into one CodeLine per line first.`,
    );
  }
  const chars = lines.reduce((sum, entry) => sum + entry.text.length + 1, 0);
  if (chars > codeTextCharsMax) {
    throw new ValidationError(
      `Code text has ${chars} characters; split it below ${codeTextCharsMax} (codeTextCharsMax) before fingerprinting.`,
    );
  }
  const tokens: CodeToken[] = [];
  let start = 0;
  for (let end = 1; end <= lines.length; end += 1) {
    if (end < lines.length && lines[end]!.line === lines[end - 1]!.line + 1) continue;
    const stretch = lines.slice(start, end);
    for (const token of tokenizeCode(stretch.map((entry) => entry.text).join('\n'), 0)) {
      const source = stretch[token.line];
      invariant(source !== undefined, `token on line index ${token.line} of ${stretch.length}`);
      tokens.push({ ...token, line: source.line });
    }
    start = end;
  }
  return tokens;
}

/** Fingerprints lines that need not be consecutive; matches map back through each token's line. */
export function fingerprintLines(lines: readonly CodeLine[], options?: Partial<WinnowingOptions>): FingerprintedCode {
  return fingerprintTokens(tokenizeLines(lines), options);
}
