import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { chatPromptTokensBound, renderChatTemplate } from './chat-template';
import { countTokens, promptTokensBound, tokenize } from './tokenizer';

const anyText = fc.oneof(
  fc.string({ unit: 'grapheme', maxLength: 200 }),
  fc.string({ unit: 'binary', maxLength: 200 }),
  fc.string(),
);
const message = fc.record({ role: fc.constantFrom('system', 'user', 'assistant', 'tool'), content: anyText });

describe('tokenizer', () => {
  it('never reports more tokens than the UTF-8 bytes of the text, multi-byte Unicode included', () => {
    fc.assert(
      fc.property(anyText, (text) => {
        const count = countTokens(text);
        expect(count).toBeLessThanOrEqual(promptTokensBound(text));
        expect(tokenize(text)).toHaveLength(count);
      }),
      { numRuns: 500 },
    );
  });

  it('keeps a chat prompt within the byte length of its rendered template', () => {
    fc.assert(
      fc.property(fc.array(message, { maxLength: 6 }), fc.boolean(), (messages, addGenerationPrompt) => {
        const rendered = renderChatTemplate(messages, { addGenerationPrompt });
        expect(countTokens(rendered)).toBeLessThanOrEqual(chatPromptTokensBound(messages, { addGenerationPrompt }));
      }),
      { numRuns: 300 },
    );
  });

  it('is deterministic and treats ChatML markers as single tokens', () => {
    expect(tokenize('hello world')).toEqual(tokenize('hello world'));
    expect(tokenize('<|im_start|>')).toEqual([151_644]);
    expect(renderChatTemplate([{ role: 'user', content: 'hi' }])).toBe(
      '<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n',
    );
  });

  it('joins the text parts of array content with newlines, as vLLM does', () => {
    expect(
      renderChatTemplate(
        [
          {
            role: 'user',
            content: [
              { type: 'text', text: 'a' },
              { type: 'text', text: 'b' },
            ],
          },
        ],
        { addGenerationPrompt: false },
      ),
    ).toBe('<|im_start|>user\na\nb<|im_end|>\n');
  });
});
