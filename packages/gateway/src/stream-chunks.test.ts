import { startVllmSim } from '@tokenwise/vllm-sim';
import { describe, expect, it } from 'vitest';
import { withoutUsage, type ChunkJson } from './inference';
import { SseParser } from './sse';
import { forwardedBody } from './forwarding';
import { tokenChunk, usageCut } from './token-chunk';

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

  it('ignores one leading byte order mark, as the SSE standard says, and keeps any later one', () => {
    const parser = new SseParser();
    expect(parser.push('')).toEqual([]);
    expect(parser.push('\uFEFF')).toEqual([]);
    expect(parser.push('data: first\n\n')).toEqual(['first']);
    expect(parser.push('\uFEFFdata: second\n\ndata: \uFEFFthird\n\n')).toEqual(['\uFEFFthird']);
    expect(new SseParser().push('\uFEFF\uFEFFdata: x\n\n')).toEqual([]);
  });
});

describe('token chunks read without parsing', () => {
  /** Continuous usage as vLLM writes it on every chunk (UsageInfo's order); completions dump the details too. */
  const usageOf = (prompt: number, completion: number, details = false) =>
    `,"usage":{"prompt_tokens":${prompt},"total_tokens":${prompt + completion},"completion_tokens":${completion}${details ? ',"prompt_tokens_details":null' : ''}}`;
  const chatToken = (content: string, index = 0, usage = '') =>
    `{"id":"chatcmpl-7","object":"chat.completion.chunk","created":1796652622,"model":"llama-3.1-8b","choices":[{"index":${index},"delta":{"content":${JSON.stringify(content)}},"logprobs":null,"finish_reason":null}]${usage}}`;
  const completionToken = (text: string, index = 0, usage = ',"usage":null') =>
    `{"id":"cmpl-7","object":"text_completion","created":1796652622,"model":"llama-3.1-8b","choices":[{"index":${index},"text":${JSON.stringify(text)},"logprobs":null,"finish_reason":null,"stop_reason":null}]${usage}}`;
  const tricky = [
    '',
    ' token',
    'say "hi"',
    'back\\slash',
    'line\nbreak\ttab',
    'é ☃ 🦙',
    '\u0001',
    '</s>',
    '"}]}',
    '"}],"usage":{"prompt_tokens":1}}',
  ];
  const usages = ['', usageOf(12, 3), usageOf(0, 0, true), usageOf(999_999_999_999, 7)];

  /** What the relay needs from a chunk, as JSON.parse reads it; and its text without usage, as withoutUsage writes it. */
  const parsedToken = (data: string, kind: 'chat' | 'completions') => {
    const parsed = JSON.parse(data) as ChunkJson;
    const choice = parsed.choices?.[0];
    const usage = parsed.usage ?? undefined;
    return {
      index: choice?.index,
      content: kind === 'chat' ? choice?.delta?.content : choice?.text,
      promptTokens: usage?.prompt_tokens,
      completionTokens: usage?.completion_tokens,
      withoutUsage: usage === undefined ? data : withoutUsage(data, parsed, kind),
    };
  };
  const readToken = (data: string, kind: 'chat' | 'completions') => {
    const token = tokenChunk(data, kind);
    if (token === undefined) return undefined;
    const { usageAt, ...read } = token;
    return { ...read, withoutUsage: usageAt > 0 ? usageCut(data, usageAt, kind) : data };
  };

  it('reads a token chunk of either endpoint exactly as JSON.parse does, with or without continuous usage, escapes included', () => {
    for (const content of tricky)
      for (const index of [0, 3])
        for (const usage of usages) {
          const chatData = chatToken(content, index, usage);
          expect(readToken(chatData, 'chat'), chatData).toEqual(parsedToken(chatData, 'chat'));
          const completionData = completionToken(content, index, usage || ',"usage":null');
          expect(readToken(completionData, 'completions'), completionData).toEqual(
            parsedToken(completionData, 'completions'),
          );
        }
    // \u escapes, a lone surrogate among them, as a server may write them.
    const escaped = chatToken('x').replace('"content":"x"', '"content":"\\u00e9\\ud83e\\udd99\\ud800\\/"');
    expect(tokenChunk(escaped, 'chat')?.content).toBe(
      (JSON.parse(escaped) as { choices: { delta: { content: string } }[] }).choices[0]?.delta.content,
    );
  });

  it('leaves every other chunk to the parser: role, finish, final usage, several choices, other fields, the other endpoint, malformed', () => {
    const token = chatToken('x');
    const withUsage = chatToken('x', 0, usageOf(1, 1));
    const others = [
      token.replace('"delta":{"content":"x"}', '"delta":{"role":"assistant","content":""}'),
      token.replace('"finish_reason":null', '"finish_reason":"stop","stop_reason":null'),
      token.replace(
        '"finish_reason":null}]',
        '"finish_reason":null},{"index":1,"delta":{"content":"y"},"logprobs":null,"finish_reason":null}]',
      ),
      token.replace('"delta":{"content":"x"}', '"delta":{"content":"x","tool_calls":[]}'),
      token.replace('"delta":{"content":"x"}', '"delta":{"reasoning_content":"x"}'),
      token.replace('"logprobs":null', '"logprobs":{"content":[]}'),
      token.replace('"id":"chatcmpl-7"', '"id":"chat\\"cmpl"'),
      token.replace('"index":0', '"index":01'),
      token.replace('"index":0', '"index":-1'),
      token.replace('"index":0', '"index":1e3'),
      token.replace('"created":1796652622', '"created":1796652622.5'),
      token.replace('"content":"x"', '"content":"\\x"'),
      token.replace('"content":"x"', '"content":"\u0001"'),
      token.replace('"content":"x"', '"content":"x'),
      token.replace('{"id"', '{ "id"'),
      `${token} `,
      token.slice(0, -1),
      completionToken('x'),
      // Usage in another order, with details that are not null, a number JSON or safety refuses, null on chat.
      token.replace(']}', '],"usage":{"total_tokens":2,"prompt_tokens":1,"completion_tokens":1}}'),
      withUsage.replace('}}', ',"prompt_tokens_details":{"cached_tokens":1}}}'),
      withUsage.replace('"completion_tokens":1', '"completion_tokens":01'),
      withUsage.replace('"prompt_tokens":1', '"prompt_tokens":1234567890123456'),
      withUsage.replace('"completion_tokens":1', '"completion_tokens":1.5'),
      withUsage.replace('"completion_tokens":1}', '"completion_tokens":1,"extra":0}'),
      withUsage.replace(',"usage"', ',"x":1,"usage"'),
      `${withUsage.slice(0, -1)},"usage":null}`,
      token.replace(']}', '],"usage":null}'),
    ];
    for (const data of others) expect(tokenChunk(data, 'chat'), data).toBeUndefined();
    expect(tokenChunk(token, 'completions')).toBeUndefined();
    expect(tokenChunk(completionToken('x', 0, ''), 'completions')).toBeUndefined();
    expect(
      tokenChunk(
        completionToken('x', 0, usageOf(1, 1)).replace('"prompt_tokens":1', '"prompt_tokens":-1'),
        'completions',
      ),
    ).toBeUndefined();
  });

  it('never reads a chunk differently from JSON.parse, over thousands of random edits of token chunks', () => {
    let seed = 7;
    const random = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      // The high bits: an LCG's low bits repeat with a short period.
      return Math.floor((seed / 2 ** 31) * n);
    };
    const alphabet = ['"', '\\', '{', '}', '[', ']', ',', ':', '0', '1', 'u', 'n', 'x', ' ', '\n', '\u0000', 'é'];
    let read = 0;
    let readWithUsage = 0;
    for (let round = 0; round < 30_000; round++) {
      const kind = round % 2 === 0 ? 'chat' : 'completions';
      const usage = usages[(round >> 1) % usages.length] ?? '';
      let data =
        kind === 'chat'
          ? chatToken(tricky[round % tricky.length] ?? '', 0, usage)
          : completionToken('tok', 0, usage || ',"usage":null');
      for (let edits = 1 + random(3); edits > 0; edits--) {
        // Half the edits land in the chunk's last 80 characters, where the usage is.
        const at = random(2) === 0 ? Math.max(0, data.length - 1 - random(80)) : random(data.length + 1);
        const char = alphabet[random(alphabet.length)] ?? '';
        const edit = random(3);
        data =
          edit === 0
            ? data.slice(0, at) + char + data.slice(at)
            : edit === 1
              ? data.slice(0, at) + data.slice(at + 1)
              : data.slice(0, at) + char + data.slice(at + 1);
      }
      const token = readToken(data, kind);
      if (token === undefined) continue;
      read++;
      if (token.promptTokens !== undefined) readWithUsage++;
      const parsed = JSON.parse(data) as ChunkJson;
      expect(parsed.choices).toHaveLength(1);
      expect(parsed.choices?.[0]?.finish_reason).toBeNull();
      expect(token).toEqual(parsedToken(data, kind));
    }
    // Some edits leave a valid token chunk (in the content, mostly): the comparison above ran on them.
    expect(read).toBeGreaterThan(500);
    expect(readWithUsage).toBeGreaterThan(300);
  });

  it('reads every token chunk vllm-sim streams, for both endpoints, with the usage the gateway asks for and without', async () => {
    const sim = await startVllmSim({ model: 'm', seed: 3, outputTokens: { min: 12, max: 12 } });
    try {
      for (const [path, kind, body] of [
        ['/v1/chat/completions', 'chat', { messages: [{ role: 'user', content: 'hi' }] }],
        ['/v1/completions', 'completions', { prompt: 'hi' }],
      ] as const)
        for (const streamOptions of [
          // Exactly what the gateway sends upstream (continuous usage on every chunk), and plain usage.
          forwardedBody({ stream: true }, 12, true).stream_options,
          { include_usage: true },
        ]) {
          const response = await fetch(`${sim.url}${path}`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ model: 'm', stream: true, stream_options: streamOptions, n: 2, ...body }),
          });
          const events = new SseParser().push(await response.text()).filter((data) => data !== '[DONE]');
          const chunks = events.map((data) => JSON.parse(data) as ChunkJson);
          const tokens = chunks.filter(
            (chunk) =>
              chunk.choices?.length === 1 &&
              chunk.choices[0]?.finish_reason === null &&
              (kind === 'completions' || !('role' in (chunk.choices[0]?.delta ?? {}))),
          );
          expect(tokens.length).toBeGreaterThanOrEqual(2 * 11);
          const read = events.filter((data) => tokenChunk(data, kind) !== undefined);
          expect(read).toHaveLength(tokens.length);
        }
    } finally {
      await sim.close();
    }
  });
});
