import { describe, expect, it } from 'vitest';
import { withoutUsage, type ChunkJson } from './inference';
import { SseParser } from './sse';

const chat =
  '{"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":"say \\"usage\\":{} }}"},"logprobs":null,"finish_reason":null}],"usage":{"prompt_tokens":12,"total_tokens":15,"completion_tokens":3}}';
const completion =
  '{"id":"cmpl-1","object":"text_completion","created":1,"model":"m","choices":[{"index":0,"text":" hi","logprobs":null,"finish_reason":null,"stop_reason":null}],"usage":{"prompt_tokens":4,"total_tokens":5,"completion_tokens":1}}';

describe('stream chunks relayed without the usage the client did not ask for', () => {
  it('drops usage from a chat chunk and nulls it in a completions chunk, leaving everything else as vLLM sent it', () => {
    const chatOut = withoutUsage(chat, JSON.parse(chat) as ChunkJson, 'chat');
    const { usage: _dropped, ...chatRest } = JSON.parse(chat) as Record<string, unknown>;
    expect(JSON.parse(chatOut)).toEqual(chatRest);
    expect(chatOut).not.toContain('"usage"');
    expect(JSON.parse(withoutUsage(completion, JSON.parse(completion) as ChunkJson, 'completions'))).toEqual({
      ...(JSON.parse(completion) as object),
      usage: null,
    });
  });

  it('serialises the chunk again when usage is not its last field or not a flat object', () => {
    const reordered =
      '{"usage":{"prompt_tokens":1,"completion_tokens":1},"choices":[{"index":0,"delta":{"content":"x"}}]}';
    expect(JSON.parse(withoutUsage(reordered, JSON.parse(reordered) as ChunkJson, 'chat'))).toEqual({
      choices: [{ index: 0, delta: { content: 'x' } }],
    });
    const nested =
      '{"choices":[],"usage":{"prompt_tokens":1,"completion_tokens":1,"prompt_tokens_details":{"cached_tokens":0}}}';
    expect(JSON.parse(withoutUsage(nested, JSON.parse(nested) as ChunkJson, 'completions'))).toEqual({
      choices: [],
      usage: null,
    });
  });
});

describe('SSE parsing', () => {
  it('yields the same events whatever the chunk boundaries, multi-line data and comments included', () => {
    const stream = `data: ${chat}\n\ndata: ${completion}\n\nevent: x\ndata: a\ndata: b\n\n: comment\n\ndata: [DONE]\n\n`;
    const expected = [chat, completion, 'a\nb', '[DONE]'];
    for (let size = 1; size < 60; size += 3) {
      const parser = new SseParser();
      const events: string[] = [];
      for (let at = 0; at < stream.length; at += size) events.push(...parser.push(stream.slice(at, at + size)));
      expect(events).toEqual(expected);
    }
  });
});
