/**
 * Reserved words of the languages completions are usually written in, kept verbatim by the
 * normaliser so that structure (`if`, `return`, `async fn`, `def`) still counts while names do
 * not. One case-sensitive set for all languages: the lexer does not guess the language, so a word
 * that is a keyword anywhere is a keyword everywhere (an identifier named `match` or `self` is
 * therefore not renamable without changing fingerprints; both sides of a comparison are lexed the
 * same way, so this costs nothing but that).
 *
 * Left out on purpose: reserved words of one language that are everyday names in another
 * (`fn`, `match`, `type`, `str`, `char`, `byte`, `range`, `select`, `mod`, `move`, `ref`, `out`,
 * `params`, `record`, `template`, `register`, `operator`, `where`, `symbol`, `short`, `signed`)
 * and contextual words (`get`, `set`, `map`, `error`, `object`), so renaming a variable with such a
 * name does not change a fingerprint.
 */
// prettier-ignore
const keywordList = [
  // JavaScript / TypeScript
  'abstract', 'any', 'as', 'async', 'await', 'bigint', 'boolean', 'break', 'case', 'catch', 'class',
  'const', 'continue', 'debugger', 'declare', 'default', 'delete', 'do', 'else', 'enum', 'export',
  'extends', 'false', 'finally', 'for', 'from', 'function', 'if', 'implements', 'import', 'in',
  'instanceof', 'interface', 'keyof', 'let', 'namespace', 'never', 'new', 'null', 'number', 'of',
  'package', 'private', 'protected', 'public', 'readonly', 'return', 'satisfies', 'static', 'string',
  'super', 'switch', 'this', 'throw', 'true', 'try', 'typeof', 'undefined', 'unknown', 'var', 'void',
  'while', 'with', 'yield',
  // Python
  'and', 'assert', 'def', 'del', 'elif', 'except', 'False', 'global', 'is', 'lambda', 'None',
  'nonlocal', 'not', 'or', 'pass', 'raise', 'True', 'self', 'cls',
  // Go
  'chan', 'defer', 'fallthrough', 'func', 'goto', 'nil', 'struct', 'int', 'int8', 'int16', 'int32',
  'int64', 'uint', 'uint8', 'uint16', 'uint32', 'uint64', 'float32', 'float64', 'rune',
  // Java / C#
  'double', 'final', 'float', 'long', 'native', 'strictfp', 'synchronized', 'throws', 'transient',
  'volatile', 'sealed', 'permits', 'override', 'virtual', 'using', 'bool',
  // Rust
  'crate', 'dyn', 'extern', 'impl', 'loop', 'mut', 'pub', 'Self', 'trait', 'unsafe', 'use', 'i8',
  'i16', 'i32', 'i64', 'i128', 'isize', 'u8', 'u16', 'u32', 'u64', 'u128', 'usize', 'f32', 'f64',
  // C / C++
  'auto', 'inline', 'restrict', 'sizeof', 'typedef', 'union', 'unsigned', 'nullptr', 'typename',
  'friend', 'constexpr', 'noexcept', 'static_cast',
];

const keywords: ReadonlySet<string> = new Set(keywordList);

/** True when `word` is kept verbatim by the normaliser instead of becoming the identifier placeholder. */
export function isCodeKeyword(word: string): boolean {
  return keywords.has(word);
}
