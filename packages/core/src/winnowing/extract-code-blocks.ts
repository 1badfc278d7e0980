import { isCodeKeyword } from './keywords';
import { tokenizeLines, type CodeLine } from './winnow';

/** A piece of code found in a completion, with completion line numbers (1-based). */
export interface CodeBlock {
  /** The fence's info word (`ts`, `python`), or undefined for an untagged fence or bare code. */
  readonly language: string | undefined;
  readonly lines: readonly CodeLine[];
}

/** Share of a text's counted lines that must look like code for unfenced text to be taken as code. */
export const bareCodeLineShareMin = 0.7;

const fenceOpen = /^\s*(`{3,}|~{3,})\s*([^\s`]*)/;
const sentenceEnd = /[.!?]$/;
const markdownBullet = /^(?:[-*+]\s|\d+[.)]\s)/;
const codeLineEnd = /(?:[;{}()[\],]|=>|->)$/;
const codeCharacter = /[=(){}[\];<>]/;
const leadingWord = /^[A-Za-z_]\w*/;

/** Splits text into numbered lines (`\n` or `\r\n`), numbering from `firstLine`. */
export function textLines(text: string, firstLine = 1): CodeLine[] {
  return text.split(/\r?\n/).map((line, index) => ({ line: firstLine + index, text: line }));
}

/**
 * The code a completion contains. Markdown fenced blocks (``` or ~~~, any indentation, with or
 * without a language tag; an unclosed fence runs to the end, as in a truncated answer) when there
 * is at least one; otherwise the whole text when `looksLikeCode` says so; otherwise nothing.
 */
export function extractCodeBlocks(completion: string): CodeBlock[] {
  const lines = textLines(completion);
  const blocks = fencedBlocks(lines);
  if (blocks.length > 0) return blocks;
  return looksLikeCode(completion) ? [{ language: undefined, lines }] : [];
}

function fencedBlocks(lines: readonly CodeLine[]): CodeBlock[] {
  const blocks: CodeBlock[] = [];
  let open: { fence: string; language: string | undefined; lines: CodeLine[] } | undefined;
  for (const entry of lines) {
    if (open === undefined) {
      const match = fenceOpen.exec(entry.text);
      if (match) open = { fence: match[1]!, language: match[2] || undefined, lines: [] };
    } else if (closesFence(entry.text, open.fence)) {
      blocks.push({ language: open.language, lines: open.lines });
      open = undefined;
    } else {
      open.lines.push(entry);
    }
  }
  if (open !== undefined) blocks.push({ language: open.language, lines: open.lines });
  return blocks;
}

/** A closing fence: the opening fence's character, at least as long, and nothing after it. */
function closesFence(text: string, fence: string): boolean {
  const trimmed = text.trim();
  return trimmed.length >= fence.length && trimmed === fence.charAt(0).repeat(trimmed.length);
}

/**
 * The rule for text without fences: it is code when at least 70% of its counted lines look like
 * code. Blank lines and comment-like lines (`//`, `/*`, `*`, `#`) are not counted (a Markdown
 * heading is not evidence either way); with no counted line the text is not code. A line looks
 * like code when it does not end a sentence (`.`, `!`, `?`), is not a Markdown bullet, and either
 * starts with a keyword (`return`, `def`, `fn`…), ends with `; { } ( ) [ ] ,`, `=>` or `->`, or
 * holds one of `= ( ) { } [ ] ; < >`.
 */
export function looksLikeCode(text: string): boolean {
  let counted = 0;
  let codeLike = 0;
  for (const { text: line } of textLines(text)) {
    const trimmed = line.trim();
    if (trimmed === '' || /^(?:\/\/|\/\*|\*|#)/.test(trimmed)) continue;
    counted += 1;
    if (isCodeLikeLine(trimmed)) codeLike += 1;
  }
  return counted > 0 && codeLike >= bareCodeLineShareMin * counted;
}

function isCodeLikeLine(trimmed: string): boolean {
  if (sentenceEnd.test(trimmed) || markdownBullet.test(trimmed)) return false;
  const word = leadingWord.exec(trimmed)?.[0];
  if (word !== undefined && isCodeKeyword(word)) return true;
  return codeLineEnd.test(trimmed) || codeCharacter.test(trimmed);
}

/** The number of normalised code tokens in the code a completion contains (see `extractCodeBlocks`). */
export function codeTokenCount(completion: string): number {
  return extractCodeBlocks(completion).reduce((total, block) => total + tokenizeLines(block.lines).length, 0);
}
