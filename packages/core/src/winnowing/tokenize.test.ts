import { describe, expect, it } from 'vitest';
import { ValidationError } from '../errors';
import { codeTextCharsMax, tokenizeCode } from './tokenize';

/** The normalised symbols of `text`, space-separated. */
const lexed = (text: string) =>
  tokenizeCode(text)
    .map((token) => token.symbol)
    .join(' ');

describe('tokenizeCode', () => {
  it('keeps keywords and operators, collapses names and literals, drops layout and formatter punctuation', () => {
    expect(lexed('if (count === 0) { return "none"; }')).toBe('if ( $id === $num ) { return $str }');
    expect(lexed('const f = async (a, b,) => a ?? b >>> 2;')).toBe(
      'const $id = async ( $id , $id ) => $id ?? $id >>> $num',
    );
  });

  it('drops //, /* */, # comments and a shebang, but keeps #include and Rust attributes as code', () => {
    expect(lexed('#!/usr/bin/env node\na // b c\n/* d\ne */ f # g h\n#include <x>\n#[derive(Debug)]')).toBe(
      '$id $id # $id < $id > # [ $id ( $id ) ]',
    );
  });

  it('lexes strings of every common shape as one literal', () => {
    const text = `a = "x\\"y" + 'q' + \`t \${b}\nu\` + f"{c}" + r'\\d' + b"\\x00" + """doc\nstring""" + 'unterminated\nz`;
    expect(lexed(text)).toBe('$id = $str + $str + $str + $str + $str + $str + $str + $str $id');
  });

  it('lexes numbers with radix, separators, exponents and suffixes as one literal, and ranges apart', () => {
    expect(lexed('0x1F 1_000 .5 1.5e-3 10n 2u32 1.0f64 3j 0..10')).toBe(
      '$num $num $num $num $num $num $num $num $num .. $num',
    );
  });

  it('lexes a regular expression where an operand may start, so its quotes open no string; division stays division', () => {
    expect(lexed('const quote = /["\'`[\\]]/g;\nnext(a / b / c, [x] / 2)')).toBe(
      'const $id = $re $id ( $id / $id / $id , [ $id ] / $num )',
    );
    expect(lexed('return /\\//.test(s); f(/[/]/)')).toBe('return $re . $id ( $id ) $id ( $re )');
    expect(lexed('x = y / 2; /* c */ z')).toBe('$id = $id / $num $id');
  });

  it('tells Rust lifetimes from character literals', () => {
    expect(lexed("fn f<'a>(x: &'a str) -> char { 'c' }")).toBe(
      "$id $id < ' $id > ( $id : & ' $id $id ) -> $id { $str }",
    );
  });

  it('keeps keywords of Python, Go, Java, Rust and C distinct from identifiers', () => {
    expect(lexed('def f(self): pass')).toBe('def $id ( self ) : pass');
    expect(lexed('func (s *S) Get() error { defer mu.Unlock() }')).toBe(
      'func ( $id * $id ) $id ( ) $id { defer $id . $id ( ) }',
    );
    expect(lexed('impl Trait for T { pub fn f(&mut self) {} }')).toBe(
      'impl $id for $id { pub $id $id ( & mut self ) { } }',
    );
    expect(lexed('unsigned long n = sizeof(int);')).toBe('unsigned long $id = sizeof ( int )');
    expect(lexed('naïve_名前 = 1')).toBe('$id = $num');
  });

  it('gives each token the line of its first character, counting lines inside strings and comments', () => {
    const tokens = tokenizeCode('a\n/* x\ny */ b\n`q\nr` c\n\n  d', 10);
    expect(tokens.map((token) => token.line)).toEqual([10, 12, 13, 14, 16]);
  });

  it('refuses text longer than codeTextCharsMax, saying what to do', () => {
    const text = ' '.repeat(codeTextCharsMax + 1);
    expect(() => tokenizeCode(text)).toThrow(ValidationError);
    expect(() => tokenizeCode(text)).toThrow(/split it/);
  });
});
