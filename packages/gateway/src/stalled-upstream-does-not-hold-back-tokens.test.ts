import type { Database } from '@tokenwise/db';
import { openTestDatabase } from '@tokenwise/db/testing';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGatewayWorld, testModel, type GatewayWorld } from './test-kit';

describe('stream coalescing', () => {
  let database: Database;
  let world: GatewayWorld;
  beforeAll(async () => {
    database = await openTestDatabase('pglite');
    world = await startGatewayWorld(database, {
      sim: { latency: { ttftMs: 5, tpotMs: 2 }, outputTokens: { min: 12, max: 12 } },
      settings: { streamFlushIntervalMs: 200 },
    });
  });
  afterAll(async () => {
    await world?.close();
    await database?.close();
  });

  it('delivers tokens already received while the model server stalls, instead of holding them for the next read', async () => {
    const { apiKey } = await world.user({ innovation: 1_000_000n });
    for (const sim of world.sims) sim.setFaults({ stall: { afterTokens: 4, durationMs: 2_000 } });
    const client = new OpenAI({ apiKey, baseURL: `${world.gateway.url}/v1`, maxRetries: 0 });
    const stream = await client.chat.completions.create({
      model: testModel,
      messages: [{ role: 'user', content: 'x' }],
      stream: true,
    });
    const arrivals: { tokens: number; at: number }[] = [];
    let tokens = 0;
    for await (const chunk of stream) {
      if (chunk.choices[0]?.delta?.content) arrivals.push({ tokens: ++tokens, at: Date.now() });
    }
    const beforeStall = arrivals.filter((arrival) => arrival.tokens <= 4);
    const afterStall = arrivals.filter((arrival) => arrival.tokens > 4);
    expect(beforeStall).toHaveLength(4);
    expect(afterStall.length).toBeGreaterThan(0);
    // The 4 tokens before the stall reach the client long before the stall ends (2 s, flush 0.2 s).
    expect((afterStall[0]?.at ?? 0) - (beforeStall[3]?.at ?? 0)).toBeGreaterThan(1_000);
  });
});
