import { registerClusters, type ClusterConfig } from '@tokenwise/control';
import type { Database } from '@tokenwise/db';
import { usageRecords } from '@tokenwise/db/schema';
import { openTestDatabase } from '@tokenwise/db/testing';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkCarbonProfiles } from './doctor-carbon';

const cluster: ClusterConfig = {
  name: 'gpu-eu',
  models: ['mixtral-8x7b', 'llama-3-8b'],
  replicas: [{ id: 'gpu-eu-0', url: 'http://10.0.0.5:8000' }],
  maxConcurrencyPerReplica: 32,
  priorityScheduling: false,
  queueDepthMax: 100,
  queueWaitMsMax: 10_000,
  region: 'eu-west-1',
  gridIntensityGCo2ePerKwh: 250,
  modelProfiles: { 'mixtral-8x7b': { totalParamsBillions: 46.7, activeParamsBillions: 12.9 } },
};

function usage(model: string, clusterName: string, carbonAssumed: boolean, createdAt: Date) {
  return {
    requestId: `req-${randomUUID()}`,
    orgId: randomUUID(),
    keyId: 'aaaaaaaaaaaa',
    model,
    cluster: clusterName,
    replica: `${clusterName}-0`,
    tier: 'normal',
    promptTokens: 10,
    completionTokens: 20,
    currency: 'innovation',
    cost: 1n,
    priceListVersion: 1,
    latencyMs: 100,
    co2eMicrograms: 3n,
    operationalCo2eMicrograms: 2n,
    embodiedCo2eMicrograms: 1n,
    carbonMethodology: 'ecologits-0.11.3',
    carbonAssumed,
    energyMicroWh: 1n,
    system: false,
    outcome: 'completed',
    createdAt,
  };
}

describe('tokenwise doctor on carbon profiles', () => {
  let database: Database;
  beforeAll(async () => {
    database = await openTestDatabase('pglite');
  });
  afterAll(async () => {
    await database?.close();
  });

  it('is ok when every served model declares its parameters', async () => {
    await registerClusters(database.db, {
      clusters: [{ ...cluster, models: ['mixtral-8x7b'] }],
      actor: 'system:gateway',
    });
    expect(await checkCarbonProfiles(database.db)).toEqual({
      name: 'Carbon profiles',
      status: 'ok',
      detail: 'every served model declares its parameters',
    });
  });

  it('lists a served model without a profile and a model metered as assumed (a bare VLLM_URL), with how to add one', async () => {
    await registerClusters(database.db, { clusters: [cluster], actor: 'system:gateway' });
    const now = new Date('2026-12-05T06:00:00Z');
    await database.db.insert(usageRecords).values([
      usage('qwen-72b', 'vllm', true, new Date('2026-12-04T10:00:00Z')),
      usage('qwen-72b', 'vllm', true, new Date('2026-12-05T05:00:00Z')),
      usage('mixtral-8x7b', 'gpu-eu', false, new Date('2026-12-05T05:00:00Z')),
      // Older than the lookback: an old row does not flag a model that may have a profile now.
      usage('old-model', 'vllm', true, new Date('2026-11-01T00:00:00Z')),
    ]);
    const check = await checkCarbonProfiles(database.db, now);
    expect(check.status).toBe('warn');
    expect(check.detail).toContain("2 model(s) metered as dense at the price list's weight (carbon_assumed)");
    expect(check.detail).toContain('llama-3-8b (cluster gpu-eu, no profile declared)');
    expect(check.detail).toContain(
      'qwen-72b (cluster vllm, 2 request(s) metered as assumed in 7 days, last 2026-12-05T05:00:00.000Z)',
    );
    expect(check.detail).toContain('"modelProfiles": {"<model>": {"totalParamsBillions"');
    expect(check.detail).not.toContain('mixtral-8x7b (');
    expect(check.detail).not.toContain('old-model');
  });
});
