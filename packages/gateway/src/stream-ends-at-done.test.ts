import { quoteCost, parsePriceList } from '@tokenwise/core';
import { usageRecords } from '@tokenwise/db/schema';
import type { Database } from '@tokenwise/db';
import { openTestDatabase } from '@tokenwise/db/testing';
import { eq } from 'drizzle-orm';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGatewayWorld, testModel, testPriceList, waitForUsageRows, type GatewayWorld } from './test-kit';

const priceList = parsePriceList(testPriceList());
const words = ['The', ' answer', ' is', ' forty', '-two', '.'];

/** Characters of two, three and four bytes in UTF-8, for an answer whose bytes arrive cut anywhere. */
const splitWords = ['Le', ' lama', ' \u{1F999}', ' mange', ' des', ' cr\u00eapes', ' \u2603', '.'];

/** The whole SSE stream of an answer made of `answer`, with vLLM's continuous usage, the final usage and [DONE]. */
function answerEvents(answer: readonly string[]): string {
  const base = { id: 'chatcmpl-1', object: 'chat.completion.chunk', created: 1, model: testModel };
  let events = '';
  for (const [index, word] of answer.entries()) {
    const usage = { prompt_tokens: 7, completion_tokens: index + 1, total_tokens: 8 + index };
    events += `data: ${JSON.stringify({ ...base, choices: [{ index: 0, delta: { content: word }, logprobs: null, finish_reason: index === answer.length - 1 ? 'stop' : null }], usage })}\n\n`;
  }
  events += `data: ${JSON.stringify({ ...base, choices: [], usage: { prompt_tokens: 7, completion_tokens: answer.length, total_tokens: 7 + answer.length } })}\n\n`;
  return events;
}

/**
 * A model server that streams a whole answer with usage and [DONE], then, depending on the request,
 * either ends the response properly or breaks the connection before the final chunk of the body;
 * or sends an answer of multi-byte characters in pieces that each end inside a character.
 */
async function startUpstream(): Promise<{ url: string; server: Server }> {
  const server = createServer((req, res) => {
    if (req.url === '/health') return res.end('ok');
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      const parsed = JSON.parse(body) as { messages: { content: string }[] };
      const prompt = parsed.messages[0]?.content;
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      if (prompt === 'split characters') {
        const text = `${answerEvents(splitWords)}data: [DONE]\n\n`;
        // A cut one byte into every multi-byte character, and one every 64 bytes besides.
        const cuts: number[] = [];
        let offset = 0;
        for (const character of text) {
          const size = Buffer.byteLength(character);
          if (size > 1 || offset % 64 === 0) cuts.push(offset + 1);
          offset += size;
        }
        const bytes = Buffer.from(text);
        const sendFrom = (index: number, from: number): void => {
          if (from >= bytes.length) return void res.end();
          const to = cuts[index] ?? bytes.length;
          // Each piece is its own write, flushed before the next, so the gateway reads it alone.
          res.write(bytes.subarray(from, to), () => setTimeout(() => sendFrom(index + 1, to), 1));
        };
        return sendFrom(0, 0);
      }
      res.write(answerEvents(words));
      res.write('data: [DONE]\n\n', () => {
        if (prompt === 'break after done') setTimeout(() => res.socket?.destroy(), 20);
        else res.end();
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

describe('the end of a stream', () => {
  let database: Database;
  let world: GatewayWorld;
  let upstream: Awaited<ReturnType<typeof startUpstream>>;
  beforeAll(async () => {
    database = await openTestDatabase('pglite');
    upstream = await startUpstream();
    world = await startGatewayWorld(database, { cluster: { replicas: [{ id: 'raw', url: upstream.url }] } });
  });
  afterAll(async () => {
    await world?.close();
    await database?.close();
    upstream?.server.close();
  });

  for (const [prompt, what] of [
    ['end normally', 'ends its response'],
    ['break after done', 'breaks the connection after [DONE]'],
  ] as const) {
    it(`gives the client the whole answer and charges it as completed when the model server ${what}`, async () => {
      const { apiKey, wallets, userId } = await world.user({ innovation: 1_000_000n });
      const client = new OpenAI({ apiKey, baseURL: `${world.gateway.url}/v1`, maxRetries: 0 });
      const stream = await client.chat.completions.create({
        model: testModel,
        messages: [{ role: 'user', content: prompt }],
        stream: true,
        stream_options: { include_usage: true },
        max_tokens: 16,
      });
      let text = '';
      let usage: unknown;
      for await (const chunk of stream) {
        text += chunk.choices[0]?.delta?.content ?? '';
        if (chunk.usage) usage = chunk.usage;
      }
      expect(text).toBe(words.join(''));
      expect(usage).toEqual({ prompt_tokens: 7, completion_tokens: words.length, total_tokens: 7 + words.length });
      await waitForUsageRows(database, { userId });
      const [row] = await database.db.select().from(usageRecords).where(eq(usageRecords.userId, userId));
      expect(row).toMatchObject({ outcome: 'completed', promptTokens: 7, completionTokens: words.length });
      const cost =
        quoteCost(priceList, { modelId: testModel, tier: 'normal', inputTokens: 7, outputTokens: words.length }).totals
          .innovation ?? 0n;
      expect(row?.cost).toBe(cost);
      expect(await world.ledger.balance(wallets.innovation as string)).toMatchObject({
        posted: 1_000_000n - cost,
        debitsPending: 0n,
      });
    });
  }

  it('gives the client every character intact when the model server sends its bytes cut inside characters', async () => {
    const { apiKey, userId } = await world.user({ innovation: 1_000_000n });
    const client = new OpenAI({ apiKey, baseURL: `${world.gateway.url}/v1`, maxRetries: 0 });
    const stream = await client.chat.completions.create({
      model: testModel,
      messages: [{ role: 'user', content: 'split characters' }],
      stream: true,
      max_tokens: 16,
    });
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? '';
    expect(text).toBe(splitWords.join(''));
    await waitForUsageRows(database, { userId });
    const [row] = await database.db.select().from(usageRecords).where(eq(usageRecords.userId, userId));
    expect(row).toMatchObject({ outcome: 'completed', promptTokens: 7, completionTokens: splitWords.length });
  });
});
