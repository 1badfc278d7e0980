import { fnv1a } from './rng';

/**
 * The simulator's tokenizer, deterministic and documented so callers can reason about counts:
 *
 * 1. Special tokens (`<|im_start|>`, `<|im_end|>`, `<|endoftext|>`) are one token each.
 * 2. The rest is pre-split GPT-2 style into pieces: contractions, an optional space plus letters,
 *    an optional space plus digits, an optional space plus other symbols, whitespace runs.
 * 3. Each piece is cut into chunks of at most `codePointsPerTokenMax` code points; one token per chunk.
 * 4. A token id is FNV-1a of the chunk modulo `ordinaryVocabSize`; special tokens take the ids after it.
 *
 * Every token covers at least one code point, and a code point is at least one UTF-8 byte, so the
 * token count of a text never exceeds its UTF-8 byte length. The gateway relies on that bound.
 */
export const codePointsPerTokenMax = 4;
export const ordinaryVocabSize = 151_643;
export const specialTokenIds: Readonly<Record<string, number>> = {
  '<|endoftext|>': 151_643,
  '<|im_start|>': 151_644,
  '<|im_end|>': 151_645,
};

const piecePattern =
  /<\|im_start\|>|<\|im_end\|>|<\|endoftext\|>|'(?:s|t|re|ve|m|ll|d)| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+/gu;

function isSpecial(piece: string): boolean {
  return piece.length > 2 && piece.charCodeAt(0) === 60 && piece.charCodeAt(1) === 124 && piece in specialTokenIds;
}

function codePointLength(piece: string): number {
  let count = 0;
  for (let i = 0; i < piece.length; i++) {
    const unit = piece.charCodeAt(i);
    // A low surrogate continues the code point its high surrogate started.
    if (unit < 0xdc00 || unit > 0xdfff) count++;
  }
  return count;
}

/** Number of tokens in `text`, without allocating the ids (the hot path only needs the count). */
export function countTokens(text: string): number {
  let count = 0;
  piecePattern.lastIndex = 0;
  for (let match = piecePattern.exec(text); match !== null; match = piecePattern.exec(text)) {
    const piece = match[0];
    count += isSpecial(piece) ? 1 : Math.ceil(codePointLength(piece) / codePointsPerTokenMax);
  }
  return count;
}

/** Token ids of `text` (see the module comment for the rules). */
export function tokenize(text: string): number[] {
  const ids: number[] = [];
  for (const match of text.matchAll(piecePattern)) {
    const piece = match[0];
    if (isSpecial(piece)) {
      ids.push(specialTokenIds[piece] as number);
      continue;
    }
    const codePoints = Array.from(piece);
    for (let start = 0; start < codePoints.length; start += codePointsPerTokenMax) {
      const chunk = codePoints.slice(start, start + codePointsPerTokenMax).join('');
      ids.push(fnv1a(chunk) % ordinaryVocabSize);
    }
  }
  return ids;
}

/** The upper bound the gateway may assume for the prompt tokens of `text`: its UTF-8 byte length. */
export function promptTokensBound(text: string): number {
  return Buffer.byteLength(text, 'utf8');
}
