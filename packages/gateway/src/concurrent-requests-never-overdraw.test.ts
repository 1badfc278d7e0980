import { checkInvariants } from '@tokenwise/ledger';
import { describeEachBackend } from '@tokenwise/db/testing';
import { usageRecords } from '@tokenwise/db/schema';
import { eq } from 'drizzle-orm';
import OpenAI from 'openai';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startGatewayWorld, testModel, waitForUsageRows, type GatewayWorld } from './test-kit';

describeEachBackend('200 concurrent requests on one wallet', (database) => {
  let world: GatewayWorld;
  beforeAll(async () => {
    world = await startGatewayWorld(database(), { replicas: 2, sim: { maxNumSeqs: 256 } });
  });
  afterAll(async () => {
    await world?.close();
  });

  it('admit only what the balance covers: no overdraft, each admitted one charged once, each refused one nothing', async () => {
    // Each request is held for at most ~ (prompt bound + 16 * 2) minor units; 40 such holds fit.
    const { apiKey, wallets, userId } = await world.user({ innovation: 4_000n });
    const client = new OpenAI({ apiKey, baseURL: `${world.gateway.url}/v1`, maxRetries: 0 });
    const outcomes = await Promise.all(
      Array.from({ length: 200 }, (_, index) =>
        client.chat.completions
          .create({ model: testModel, messages: [{ role: 'user', content: `request ${index}` }], max_tokens: 16 })
          .then((completion) => ({ ok: true as const, completion }))
          .catch((error: unknown) => ({ ok: false as const, status: (error as { status?: number }).status })),
      ),
    );
    const admitted = outcomes.filter((outcome) => outcome.ok);
    const refused = outcomes.filter((outcome) => !outcome.ok);
    expect(admitted.length).toBeGreaterThan(0);
    expect(refused.length).toBeGreaterThan(0);
    expect(refused.every((outcome) => !outcome.ok && outcome.status === 402)).toBe(true);
    await waitForUsageRows(database(), { userId }, admitted.length);
    const rows = await database().db.select().from(usageRecords).where(eq(usageRecords.userId, userId));
    expect(rows).toHaveLength(admitted.length);
    const charged = rows.reduce((sum, row) => sum + row.cost, 0n);
    const balance = await world.ledger.balance(wallets.innovation as string);
    expect(balance).toMatchObject({ posted: 4_000n - charged, debitsPending: 0n });
    expect(balance.available).toBeGreaterThanOrEqual(0n);
    expect(await checkInvariants(database().db)).toEqual([]);
  });
});
