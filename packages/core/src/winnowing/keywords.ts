/**
 * Reserved words of the languages completions are usually written in, kept verbatim by the
 * normaliser so that structure (`if`, `return`, `async fn`, `def`) still counts while names do
 * not. One case-sensitive set for all languages: the lexer does not guess the language, so a word
 * that is a keyword anywhere is a keyword everywhere (an identifier named `match` or `self` is
 * therefore not renamable without changing fingerprints; both sides of a comparison are lexed the
 * same way, so this costs nothing but that).
 *
 * Left out on purpose: contextual words that are mostly names in practice (`get`, `set`, `map`,
 * `error`, `object`, `value`, `data`, `len`, `print`), so renaming such a variable does not change
 * a fingerprint.
 */
// prettier-ignore
const keywordList = [
  // JavaScript / TypeScript
  'abstract', 'any', 'as', 'async', 'await', 'bigint', 'boolean', 'break', 'case', 'catch', 'class',
  'const', 'continue', 'debugger', 'declare', 'default', 'delete', 'do', 'else', 'enum', 'export',
  'extends', 'false', 'finally', 'for', 'from', 'function', 'if', 'implements', 'import', 'in',
  'instanceof', 'interface', 'keyof', 'let', 'namespace', 'never', 'new', 'null', 'number', 'of',
  'package', 'private', 'protected', 'public', 'readonly', 'return', 'satisfies', 'static', 'string',
  'super', 'switch', 'symbol', 'this', 'throw', 'true', 'try', 'type', 'typeof', 'undefined',
  'unknown', 'var', 'void', 'while', 'with', 'yield',
  // Python
  'and', 'assert', 'def', 'del', 'elif', 'except', 'False', 'global', 'is', 'lambda', 'None',
  'nonlocal', 'not', 'or', 'pass', 'raise', 'True', 'self', 'cls',
  // Go
  'chan', 'defer', 'fallthrough', 'func', 'go', 'goto', 'nil', 'range', 'select', 'struct',
  'int', 'int8', 'int16', 'int32', 'int64', 'uint', 'uint8', 'uint16', 'uint32', 'uint64',
  'float32', 'float64', 'byte', 'rune',
  // Java / C#
  'assert', 'byte', 'char', 'double', 'final', 'float', 'long', 'native', 'short', 'strictfp',
  'synchronized', 'throws', 'transient', 'volatile', 'record', 'sealed', 'permits', 'override',
  'virtual', 'using', 'internal', 'out', 'ref', 'params', 'bool', 'decimal',
  // Rust
  'crate', 'dyn', 'extern', 'fn', 'impl', 'loop', 'match', 'mod', 'move', 'mut', 'pub', 'Self',
  'trait', 'unsafe', 'use', 'where', 'i8', 'i16', 'i32', 'i64', 'i128', 'isize', 'u8', 'u16', 'u32',
  'u64', 'u128', 'usize', 'f32', 'f64', 'str',
  // C / C++
  'auto', 'inline', 'register', 'restrict', 'signed', 'sizeof', 'typedef', 'union', 'unsigned',
  'nullptr', 'template', 'typename', 'operator', 'friend', 'constexpr', 'noexcept', 'static_cast',
];

const keywords: ReadonlySet<string> = new Set(keywordList);

/** True when `word` is kept verbatim by the normaliser instead of becoming the identifier placeholder. */
export function isCodeKeyword(word: string): boolean {
  return keywords.has(word);
}
