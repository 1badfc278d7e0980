import { describe, expect, it } from 'vitest';
import { codeTokenCount, extractCodeBlocks, looksLikeCode } from './extract-code-blocks';
import { guaranteeThreshold, winnowingDefaults } from './options';

const numbered = (block: { lines: readonly { line: number; text: string }[] }) =>
  block.lines.map(({ line, text }) => `${line}:${text}`);

describe('extractCodeBlocks', () => {
  it('takes fenced blocks with and without a language tag, with completion line numbers', () => {
    const completion = ['Here it is:', '```ts', 'const a = 1;', '```', 'And untagged:', '~~~', 'b();', '~~~'].join(
      '\n',
    );
    const blocks = extractCodeBlocks(completion);
    expect(blocks.map((block) => block.language)).toEqual(['ts', undefined]);
    expect(blocks.map(numbered)).toEqual([['3:const a = 1;'], ['7:b();']]);
  });

  it('takes indented fences (inside a list), longer fences around shorter ones, and an unclosed last fence', () => {
    const completion = [
      '1. Install:',
      '   ```bash',
      '   npm i x',
      '   ```',
      '````md',
      '```js',
      'inner()',
      '```',
      '````',
      '```python',
      'def cut(',
    ].join('\r\n');
    const blocks = extractCodeBlocks(completion);
    expect(blocks.map((block) => block.language)).toEqual(['bash', 'md', 'python']);
    expect(blocks.map(numbered)).toEqual([['3:   npm i x'], ['6:```js', '7:inner()', '8:```'], ['11:def cut(']]);
  });

  it('takes a whole unfenced text only when it looks like code', () => {
    const code = 'def area(r):\n    return 3.14 * r * r\n\nprint(area(2))';
    expect(extractCodeBlocks(code)).toEqual([{ language: undefined, lines: expect.any(Array) }]);
    expect(extractCodeBlocks(code)[0]!.lines).toHaveLength(4);
    const prose = 'You can compute the area with pi times r squared.\nCall it twice if needed!\n- fast\n- simple';
    expect(extractCodeBlocks(prose)).toEqual([]);
  });
});

describe('looksLikeCode', () => {
  it('needs 70% of the counted lines to look like code; blank and comment lines do not count', () => {
    expect(looksLikeCode('const x = f(y);\n// note\n\nif (x) {\n  g();\n}')).toBe(true);
    expect(looksLikeCode('fn main() {\n    println!("hi");\n}')).toBe(true);
    expect(looksLikeCode('func main() {\n\tfmt.Println("hi")\n}')).toBe(true);
    expect(looksLikeCode('# Title\n\nThis explains the idea.\nIt has two sentences.')).toBe(false);
    expect(looksLikeCode('Here is the code:\nx = 1\nIt sets x.\nThat is all.')).toBe(false);
    expect(looksLikeCode('# only a heading')).toBe(false);
    expect(looksLikeCode('')).toBe(false);
  });
});

describe('codeTokenCount', () => {
  it('counts normalised tokens of the code only, so a short or prose-only completion is below t', () => {
    const t = guaranteeThreshold(winnowingDefaults);
    expect(codeTokenCount('Use a map instead of a list. It is faster.')).toBe(0);
    expect(codeTokenCount('Try this:\n```js\nconst total = a + b; // sum\n```\nDone.')).toBe(6);
    expect(codeTokenCount('Try this:\n```js\nconst total = a + b;\n```')).toBeLessThan(t);
    const longer =
      '```ts\nexport function clamp(value: number, low: number, high: number): number {\n  return Math.min(high, Math.max(low, value));\n}\n```';
    expect(codeTokenCount(longer)).toBeGreaterThanOrEqual(t);
  });
});
