import { ValidationError } from '../errors';
import { isCodeKeyword } from './keywords';

/**
 * A language-agnostic code lexer and normaliser: the token stream that winnowing hashes.
 *
 * What the normalisation IGNORES (two texts that differ only in these give the same tokens):
 * - layout: spaces, tabs, line breaks, indentation (Python's included), Unicode spaces;
 * - comments: `// …` and `/* … *\/` (not nested), `# …` when `#` is followed by whitespace or
 *   ends the line (Python, shell, Ruby, YAML), and a `#!` first line;
 * - names: every identifier that is not a keyword (variables, functions, types, properties,
 *   labels, Rust lifetimes after their `'`) becomes `$id`, so any renaming is invisible;
 * - literal values: every number (any base, exponent or type suffix) becomes `$num`; every
 *   string, character, template literal or docstring becomes `$str`, together with its prefix
 *   (`r"…"`, `b'…'`, `f"…"`) and whatever it interpolates; every regular expression literal
 *   (`/…/flags` where an operand may start and it closes on its line) becomes `$re`;
 * - punctuation that formatters add or remove: `;` and a trailing `,` before `)`, `]` or `}`.
 *
 * What it KEEPS, in order: keywords of JS/TS, Python, Go, Java/C#, Rust and C/C++ (see
 * `keywords.ts`), verbatim; operators and other punctuation, verbatim, longest match first
 * (`>>>=`, `===`, `=>`, `::`, `?.`). Any other character outside a string is a token of its own.
 *
 * Known approximations, identical on both sides of any comparison: `//` is always a comment
 * (Python's floor division included), a `/` after `)`, `]`, `}` or an operand is division, a
 * `${…}` interpolation ends at the first backtick, `#comment` with no space is code, and a `'`
 * right after `<` or `&` and before a name not closed by `'` is a Rust lifetime's tick.
 */
export type CodeTokenKind = 'identifier' | 'keyword' | 'number' | 'string' | 'regex' | 'punctuation';

export interface CodeToken {
  readonly kind: CodeTokenKind;
  /** What winnowing hashes: a placeholder for identifiers and literals, the text itself otherwise. */
  readonly symbol: string;
  /** Line of the token's first character, counted from the `firstLine` given to the lexer. */
  readonly line: number;
}

export const identifierSymbol = '$id';
export const numberSymbol = '$num';
export const stringSymbol = '$str';
export const regexSymbol = '$re';

/** Longest text the lexer accepts in one call (a 10,000-line diff is about 0.5 M characters). */
export const codeTextCharsMax = 8_000_000;

const operators4 = new Set(['>>>=']);
// prettier-ignore
const operators3 = new Set(['===', '!==', '**=', '<<=', '>>=', '>>>', '...', '&&=', '||=', '??=', '..=', '<=>']);
// prettier-ignore
const operators2 = new Set([
  '=>', '->', '::', '==', '!=', '<=', '>=', '&&', '||', '??', '?.', '++', '--', '+=', '-=', '*=',
  '/=', '%=', '&=', '|=', '^=', '**', '<<', '>>', ':=', '..',
]);
const closingBrackets = new Set([')', ']', '}']);
// prettier-ignore
const stringPrefixes = new Set(['r', 'b', 'f', 'u', 'R', 'B', 'F', 'U', 'rb', 'br', 'fr', 'rf', 'Rb', 'bR', 'RB', 'BR']);
const lifetimeLeaders = new Set(['<', '&', 'break', 'continue']);
const lifetimeFollowers = new Set([',', '+', ':']);
/** After these a `/` divides; after anything else (an operator, `(`, `return`) it opens a regular expression. */
const operandEnds = new Set([')', ']', '}', 'this', 'super', 'true', 'false', 'null', 'undefined', 'self', 'None']);
const identifierPattern = /[\p{L}\p{Nl}_$][\p{L}\p{N}\p{Mn}\p{Mc}_$]*/uy;

/** Lexes and normalises `text`; token lines start at `firstLine`. */
export function tokenizeCode(text: string, firstLine = 1): CodeToken[] {
  if (text.length > codeTextCharsMax) {
    throw new ValidationError(
      `Code text has ${text.length} characters; split it below ${codeTextCharsMax} (codeTextCharsMax) before fingerprinting.`,
    );
  }
  const lexer = new Lexer(text, firstLine);
  lexer.run();
  return lexer.tokens;
}

class Lexer {
  readonly tokens: CodeToken[] = [];
  private at = 0;
  private line: number;
  private lastLifetimeLine = Number.NaN;
  /** The last token read, `;` included: what decides whether a `/` divides or opens a regex. */
  private previousKind: CodeTokenKind | undefined;
  private previousSymbol = '';

  constructor(
    private readonly text: string,
    firstLine: number,
  ) {
    this.line = firstLine;
  }

  run(): void {
    const { text } = this;
    while (this.at < text.length) {
      const code = text.charCodeAt(this.at);
      if (code === 10) {
        this.line += 1;
        this.at += 1;
      } else if (isSpace(code)) {
        this.at += 1;
      } else if (!this.skipComment(code)) {
        this.lexToken(code);
      }
    }
  }

  private lexToken(code: number): void {
    const { text, at } = this;
    if (isDigit(code) || (code === 46 && isDigit(text.charCodeAt(at + 1)))) {
      this.push('number', numberSymbol, numberEnd(text, at));
    } else if (code === 34 || code === 96) {
      this.push('string', stringSymbol, stringEnd(text, at));
    } else if (code === 39) {
      this.lexSingleQuote();
    } else if (code === 47 && this.mayStartOperand() && regexEnd(text, at) > 0) {
      this.push('regex', regexSymbol, regexEnd(text, at));
    } else if (isIdentifierStart(text, at)) {
      this.lexWord();
    } else {
      this.lexPunctuation();
    }
  }

  /** Skips a comment starting here; false when there is none. */
  private skipComment(code: number): boolean {
    const { text, at } = this;
    const next = text.charCodeAt(at + 1);
    if (code === 47 && next === 47) {
      this.at = lineEnd(text, at);
      return true;
    }
    if (code === 47 && next === 42) {
      const close = text.indexOf('*/', at + 2);
      this.advanceTo(close < 0 ? text.length : close + 2);
      return true;
    }
    if (code === 35 && (isHashCommentLead(next) || (at === 0 && next === 33))) {
      this.at = lineEnd(text, at);
      return true;
    }
    return false;
  }

  private lexWord(): void {
    identifierPattern.lastIndex = this.at;
    const match = identifierPattern.exec(this.text);
    const word = match ? match[0] : this.text.charAt(this.at);
    const end = this.at + word.length;
    const quote = this.text.charCodeAt(end);
    if ((quote === 34 || quote === 39) && stringPrefixes.has(word)) {
      this.push('string', stringSymbol, stringEnd(this.text, end));
    } else if (isCodeKeyword(word)) {
      this.push('keyword', word, end);
    } else {
      this.push('identifier', identifierSymbol, end);
    }
  }

  /** `'` opens a string or character literal, or is the tick of a Rust lifetime or label (`&'a`, `'outer:`). */
  private lexSingleQuote(): void {
    const { text, at } = this;
    identifierPattern.lastIndex = at + 1;
    const match = identifierPattern.exec(text);
    const word = match?.[0];
    const previous = this.tokens.at(-1)?.symbol ?? '';
    const isLifetime =
      word !== undefined &&
      text.charCodeAt(at + 1 + word.length) !== 39 &&
      (lifetimeLeaders.has(previous) ||
        word === 'static' ||
        (lifetimeFollowers.has(previous) && this.lastLifetimeLine === this.line));
    if (isLifetime) {
      this.lastLifetimeLine = this.line;
      this.push('punctuation', "'", at + 1);
    } else {
      this.push('string', stringSymbol, stringEnd(text, at));
    }
  }

  private lexPunctuation(): void {
    const { text, at } = this;
    const symbol = longestOperator(text, at) ?? String.fromCodePoint(text.codePointAt(at) ?? 0);
    const end = at + symbol.length;
    if (symbol === ';') {
      this.previousKind = 'punctuation';
      this.previousSymbol = symbol;
      this.at = end;
      return;
    }
    if (closingBrackets.has(symbol) && this.tokens.at(-1)?.symbol === ',') this.tokens.pop();
    this.push('punctuation', symbol, end);
  }

  private mayStartOperand(): boolean {
    const kind = this.previousKind;
    if (kind === 'identifier' || kind === 'number' || kind === 'string' || kind === 'regex') return false;
    return !operandEnds.has(this.previousSymbol);
  }

  private push(kind: CodeTokenKind, symbol: string, end: number): void {
    this.tokens.push({ kind, symbol, line: this.line });
    this.previousKind = kind;
    this.previousSymbol = symbol;
    this.advanceTo(end);
  }

  /** Moves past `end`, counting the line breaks skipped over (multi-line strings and comments). */
  private advanceTo(end: number): void {
    for (let index = this.text.indexOf('\n', this.at); index >= 0 && index < end;) {
      this.line += 1;
      index = this.text.indexOf('\n', index + 1);
    }
    this.at = end;
  }
}

function longestOperator(text: string, at: number): string | undefined {
  const operatorSets = [operators4, operators3, operators2];
  for (const [index, operators] of operatorSets.entries()) {
    const candidate = text.slice(at, at + 4 - index);
    if (operators.has(candidate)) return candidate;
  }
  return undefined;
}

function isDigit(code: number): boolean {
  return code >= 48 && code <= 57;
}

function isAsciiWordChar(code: number): boolean {
  return isDigit(code) || code === 95 || (code >= 65 && code <= 90) || (code >= 97 && code <= 122);
}

function isSpace(code: number): boolean {
  return (
    code === 32 ||
    code === 9 ||
    code === 13 ||
    code === 11 ||
    code === 12 ||
    code === 0xa0 ||
    code === 0xfeff ||
    (code >= 0x2000 && code <= 0x200b) ||
    code === 0x2028 ||
    code === 0x2029 ||
    code === 0x3000
  );
}

function isHashCommentLead(next: number): boolean {
  return Number.isNaN(next) || next === 10 || isSpace(next);
}

function isIdentifierStart(text: string, at: number): boolean {
  const code = text.charCodeAt(at);
  if (code < 128) return code === 95 || code === 36 || (code >= 65 && code <= 90) || (code >= 97 && code <= 122);
  identifierPattern.lastIndex = at;
  return identifierPattern.test(text);
}

function lineEnd(text: string, at: number): number {
  const end = text.indexOf('\n', at);
  return end < 0 ? text.length : end;
}

/** End of a number literal: `0x1F`, `1_000`, `.5`, `1.5e-3`, `10n`, `2u32`, `1.0f64`, `3j`. */
function numberEnd(text: string, at: number): number {
  let end = at;
  const radix = text.charCodeAt(at + 1) | 32;
  if (text.charCodeAt(at) === 48 && (radix === 120 || radix === 98 || radix === 111)) end += 2;
  while (isDigit(text.charCodeAt(end)) || text.charCodeAt(end) === 95) end += 1;
  if (text.charCodeAt(end) === 46 && isDigit(text.charCodeAt(end + 1))) {
    end += 1;
    while (isDigit(text.charCodeAt(end)) || text.charCodeAt(end) === 95) end += 1;
  }
  const sign = text.charCodeAt(end + 1);
  if ((text.charCodeAt(end) | 32) === 101) {
    if (isDigit(sign)) end += 1;
    else if ((sign === 43 || sign === 45) && isDigit(text.charCodeAt(end + 2))) end += 2;
  }
  while (isAsciiWordChar(text.charCodeAt(end))) end += 1;
  return end;
}

/** End of the regular expression literal whose `/` is at `at` (flags included), or -1 when it does not close on its line. */
function regexEnd(text: string, at: number): number {
  let inClass = false;
  for (let end = at + 1; end < text.length; end += 1) {
    const char = text.charAt(end);
    if (char === '\\') end += 1;
    else if (char === '\n') return -1;
    else if (char === '[') inClass = true;
    else if (char === ']') inClass = false;
    else if (char === '/' && !inClass) {
      let flagsEnd = end + 1;
      while (isAsciiWordChar(text.charCodeAt(flagsEnd))) flagsEnd += 1;
      return flagsEnd;
    }
  }
  return -1;
}

/**
 * End of the string literal whose quote is at `at`. `"` and `'` strings end at their closing
 * quote or, unterminated, at the end of the line; triple-quoted and backtick strings may span
 * lines and, unterminated, run to the end of the text.
 */
function stringEnd(text: string, at: number): number {
  const quote = text.charAt(at);
  if (quote !== '`' && text.startsWith(quote.repeat(3), at)) {
    const close = text.indexOf(quote.repeat(3), at + 3);
    return close < 0 ? text.length : close + 3;
  }
  const multiLine = quote === '`';
  for (let end = at + 1; end < text.length; end += 1) {
    const char = text.charAt(end);
    if (char === '\\') end += 1;
    else if (char === quote) return end + 1;
    else if (char === '\n' && !multiLine) return end;
  }
  return text.length;
}
