import type { Database } from '@tokenwise/db';
import { openTestDatabase } from '@tokenwise/db/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runInferenceFuzz } from './fuzz/inference-fuzz';
import { startGatewayWorld, type GatewayWorld } from './test-kit';

/**
 * A seeded, bounded fuzz campaign in the suite (about 1,000 cases, at most 50 s of sending):
 * `npm run fuzz` runs longer ones with other seeds (FUZZ_SEED, FUZZ_CASES).
 */
describe('the request path under random valid and malformed requests (real PostgreSQL)', () => {
  let database: Database;
  let world: GatewayWorld;
  beforeAll(async () => {
    database = await openTestDatabase('postgres');
    world = await startGatewayWorld(database, {
      replicas: 2,
      sim: { latency: { ttftMs: 1, tpotMs: 1 }, outputTokens: { min: 1, max: 12 } },
    });
  });
  afterAll(async () => {
    await world?.close();
    await database?.close();
  });

  it('never answers 5xx without an upstream fault, meters every answer once within its hold, and leaves the neighbour and the ledger sound', async () => {
    const report = await runInferenceFuzz(world, database, {
      seed: 20_261_204,
      cases: 1_000,
      concurrency: 8,
      durationMsMax: 50_000,
      invariantsEvery: 100,
    });
    expect(report.failures).toEqual([]);
    expect(report.casesRun).toBeGreaterThanOrEqual(300);
    // The campaign reaches the model, and refuses, too.
    expect(report.statuses['200'] ?? 0).toBeGreaterThan(report.casesRun / 5);
    expect(report.statuses['400'] ?? 0).toBeGreaterThan(0);
    expect(report.neighbourRequests).toBeGreaterThan(10);
  }, 150_000);
});
