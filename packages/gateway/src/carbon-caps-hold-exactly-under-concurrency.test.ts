import { co2eMicrogramsBound, gramsToMicrograms, microgramsToGrams } from '@tokenwise/core';
import { setCarbonCap } from '@tokenwise/control';
import { createTeam } from '@tokenwise/db';
import { describeEachBackend } from '@tokenwise/db/testing';
import { notifications, usageRecords } from '@tokenwise/db/schema';
import { carbonBudgetKey, checkInvariants } from '@tokenwise/ledger';
import { carbonPeriodOf } from '@tokenwise/core';
import { and, eq } from 'drizzle-orm';
import OpenAI from 'openai';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startGatewayWorld, testModel, waitForUsageRows, type GatewayWorld } from './test-kit';

// What admission holds per request: 16 output tokens of an 8B dense model (the price list's weight) at 300 g/kWh.
const bound = co2eMicrogramsBound(
  { totalParamsBillions: 8, activeParamsBillions: 8 },
  { region: 'eu-west', gridIntensityGCo2ePerKwh: 300 },
  16,
);

describeEachBackend('200 concurrent requests against a hard carbon cap', (database) => {
  let world: GatewayWorld;
  beforeAll(async () => {
    // Slow answers: every request is admitted (or refused) before the first one completes and returns the rest of its hold.
    world = await startGatewayWorld(database(), {
      replicas: 2,
      sim: { maxNumSeqs: 256, latency: { ttftMs: 3_000, tpotMs: 1 } },
    });
  });
  afterAll(async () => {
    await world?.close();
  });

  it('admit only what the team budget covers: never over the cap, each admitted one charged its emissions once, each refused one told why', async () => {
    const db = database().db;
    const team = await createTeam(db, {
      actor: 'test',
      input: { orgId: world.orgId, slug: `green-${Date.now()}`, name: 'Green' },
    });
    const { apiKey, userId } = await world.user({ innovation: 10n ** 12n }, { teamId: team.id });
    const deps = { db, ledger: world.ledger };
    const capMicrograms = bound * 40n + bound / 2n;
    const grams = (micrograms: bigint) => Math.floor(microgramsToGrams(micrograms) * 1e6) / 1e6;
    await setCarbonCap(deps, {
      orgId: world.orgId,
      timeZone: 'UTC',
      actor: 'test',
      input: { scope: 'team', teamId: team.id, period: 'month', hardGrams: grams(capMicrograms), softPercent: 50 },
    });
    // Generous user and org caps: every request holds on all three budgets.
    await setCarbonCap(deps, {
      orgId: world.orgId,
      timeZone: 'UTC',
      actor: 'test',
      input: { scope: 'user', userId, period: 'month', hardGrams: 1_000 },
    });
    await setCarbonCap(deps, {
      orgId: world.orgId,
      timeZone: 'UTC',
      actor: 'test',
      input: { scope: 'org', period: 'quarter', hardGrams: 10_000 },
    });
    const client = new OpenAI({ apiKey, baseURL: `${world.gateway.url}/v1`, maxRetries: 0 });
    const outcomes = await Promise.all(
      Array.from({ length: 200 }, (_, index) =>
        client.chat.completions
          .create({ model: testModel, messages: [{ role: 'user', content: `request ${index}` }], max_tokens: 16 })
          .then(() => ({ ok: true as const }))
          .catch((error: unknown) => ({ ok: false as const, error: error as { status?: number; code?: string } })),
      ),
    );
    const admitted = outcomes.filter((outcome) => outcome.ok);
    const refused = outcomes.flatMap((outcome) => (outcome.ok ? [] : [outcome.error]));
    // 40.5 bounds fit: at least 40 requests (more only if a finished one returned the rest of its hold in time).
    expect(admitted.length).toBeGreaterThanOrEqual(40);
    expect(refused.length).toBeGreaterThan(0);
    expect(refused.length).toBe(200 - admitted.length);
    for (const error of refused) {
      expect(error.status).toBe(429);
      expect(error.code).toBe('carbon_cap_reached');
      // Refused only when what was left could not cover the request's bound.
      const left = /has ([\d.,]+) g CO2e left/.exec((error as unknown as { message: string }).message)?.[1];
      expect(left).toBeDefined();
      expect(gramsToMicrograms(Number(left?.replaceAll(',', '')))).toBeLessThan(bound);
    }
    const message = (refused[0] as unknown as { message: string }).message;
    expect(message).toMatch(/your team's monthly carbon budget/);
    expect(message).toMatch(/left/);
    expect(message).toMatch(/resets at \d{4}-\d\d-01T00:00:00\.000Z/);
    expect(message).toMatch(/carbon\.requestRaise/);

    await waitForUsageRows(database(), { userId }, admitted.length);
    const rows = await db.select().from(usageRecords).where(eq(usageRecords.userId, userId));
    expect(rows).toHaveLength(admitted.length);
    const emitted = rows.reduce((sum, row) => sum + row.co2eMicrograms, 0n);
    const month = carbonPeriodOf(new Date(), 'UTC', 'month');
    const budget = await world.ledger.ensureAccount(
      carbonBudgetKey({ orgId: world.orgId, scope: 'team', scopeId: team.id, period: month }),
    );
    const balance = await world.ledger.balance(budget.id);
    expect(balance.debitsPending).toBe(0n);
    expect(balance.debitsPosted).toBe(emitted);
    expect(balance.creditsPosted).toBe(capMicrograms);
    expect(balance.debitsPosted).toBeLessThanOrEqual(capMicrograms);
    expect(balance.available).toBeGreaterThanOrEqual(0n);
    expect(await checkInvariants(db)).toEqual([]);

    // Half the cap was passed: one soft-threshold notification for the user, however many requests passed it.
    await expect
      .poll(
        async () =>
          (
            await db
              .select()
              .from(notifications)
              .where(and(eq(notifications.userId, userId), eq(notifications.kind, 'carbon_soft_threshold')))
          ).length,
        { timeout: 5_000 },
      )
      .toBe(1);
  });
});
