import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ValidationError } from '../errors';
import {
  chatPromptTokensBound,
  completionPromptTokensBounds,
  defaultChatTemplateOverhead,
  jsonBytesBound,
  utf8ByteLength,
} from './prompt-bound';

const encoder = new TextEncoder();
const anyText = fc.oneof(
  fc.string({ unit: 'binary' }),
  fc.string({ unit: 'grapheme' }),
  fc.constantFrom('\ud800', 'a\udc00b', '😀', 'é', '中文'),
);

/** Python's json.dumps: ", " and ": " separators, optional \uXXXX escaping, floats always with ".0". */
function pythonDumps(value: unknown, ensureAscii: boolean): string {
  if (value === null) return 'null';
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (typeof value === 'number') return Number.isInteger(value) ? `${value}.0` : String(value);
  if (typeof value === 'string') {
    const json = JSON.stringify(value);
    return ensureAscii
      ? json.replace(/[\u0080-\uffff]/g, (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`)
      : json;
  }
  if (Array.isArray(value)) return `[${value.map((item) => pythonDumps(item, ensureAscii)).join(', ')}]`;
  return `{${Object.entries(value as object)
    .map(([key, item]) => `${pythonDumps(key, ensureAscii)}: ${pythonDumps(item, ensureAscii)}`)
    .join(', ')}}`;
}

describe('prompt token bounds', () => {
  it('counts UTF-8 bytes exactly as TextEncoder does, lone surrogates included', () => {
    fc.assert(
      fc.property(anyText, (text) => {
        expect(utf8ByteLength(text)).toBe(encoder.encode(text).length);
      }),
      { numRuns: 2000 },
    );
  });

  it('bounds the bytes of any JSON rendering a template may produce', () => {
    fc.assert(
      fc.property(fc.json({ maxDepth: 3 }), (text) => {
        const value = JSON.parse(text) as unknown;
        const bound = jsonBytesBound(value, 4);
        for (const rendering of [
          JSON.stringify(value),
          JSON.stringify(value, null, 2),
          JSON.stringify(value, null, 4),
          pythonDumps(value, true),
          pythonDumps(value, false),
        ]) {
          expect(encoder.encode(rendering).length).toBeLessThanOrEqual(bound);
        }
      }),
      { numRuns: 1000 },
    );
  });

  it('counts every message field, tools and the template overhead', () => {
    const overhead = { fixedTokens: 10, perMessageTokens: 3, perToolTokens: 5, jsonIndentSpaces: 0 };
    const bound = chatPromptTokensBound(
      {
        messages: [
          { role: 'system', content: 'héllo' }, // 6 + 6 bytes
          { role: 'user', name: 'ann', content: [{ type: 'text', text: '😀' }] }, // 4 + 3 + 4 (+1 per part)
        ],
        tools: [{ a: 1 }], // [{"a":1}] = 9 bytes, + 2 per number, + 5 per tool
      },
      overhead,
    );
    expect(bound).toBe(10 + 3 * 2 + (6 + 6) + (4 + 3 + 4 + 1) + (9 + 2 + 5));
  });

  it('refuses what cannot be bounded from bytes, saying what to send instead', () => {
    const image = { messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'x' } }] }] };
    expect(() => chatPromptTokensBound(image, defaultChatTemplateOverhead)).toThrow(/send text only/);
    expect(() =>
      chatPromptTokensBound(
        { messages: [{ role: 'user', content: 'x' }], chat_template: '{{x}}' },
        defaultChatTemplateOverhead,
      ),
    ).toThrow(/Remove the field/);
    expect(() => chatPromptTokensBound({ messages: [] }, defaultChatTemplateOverhead)).toThrow(ValidationError);
    expect(() => completionPromptTokensBounds([1, 'a'], defaultChatTemplateOverhead)).toThrow(/prompt must be/);
  });

  it('bounds completions prompts: text by bytes, token ids by count', () => {
    expect(completionPromptTokensBounds('abc', { ...defaultChatTemplateOverhead, fixedTokens: 2 })).toEqual([5]);
    expect(completionPromptTokensBounds([[1, 2, 3], [4]], defaultChatTemplateOverhead)).toEqual([3, 1]);
    expect(completionPromptTokensBounds(['a', 'é'], { ...defaultChatTemplateOverhead, fixedTokens: 0 })).toEqual([
      1, 2,
    ]);
  });
});
