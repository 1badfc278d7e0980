import type { Database } from '@tokenwise/db';
import { gatewayRequests, scoringConfigs } from '@tokenwise/db/schema';
import type { GatewayWorld } from '@tokenwise/gateway/testing';
import { definePlugin } from '@tokenwise/plugin-sdk';
import type { TestTemporal } from '@tokenwise/workflows/testing';
import { eq } from 'drizzle-orm';
import { z } from 'zod';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { settlementWorkflowId } from './relay';
import {
  chargedRequest,
  createScoringTeam,
  expectedRefund,
  startSettlementWorld,
  type SettlementWorld,
} from './test-world';

const alwaysGood = definePlugin({
  id: 'always-good',
  version: '1.0.0',
  configSchema: z.object({}),
  score: async () => ({ status: 'scored', score: 0.9, confidence: 1, evidence: {}, rationale: 'useful' }),
});
const harsh = definePlugin({
  id: 'harsh',
  version: '1.0.0',
  configSchema: z.object({}),
  score: async () => ({ status: 'scored', score: 0.1, confidence: 1, evidence: {}, rationale: 'never good enough' }),
});

describe('a request is scored under the scoring configuration it was admitted with', () => {
  let settlement: SettlementWorld;
  let database: Database;
  let world: GatewayWorld;
  let temporal: TestTemporal;

  beforeAll(async () => {
    settlement = await startSettlementWorld([alwaysGood, harsh]);
    ({ database, world, temporal } = settlement);
  });
  afterAll(() => settlement?.close());

  it('pins the version on the admission row, and a lead’s later change does not rescore requests already made', async () => {
    const team = await createScoringTeam(database, world, ['always-good']);
    const { requestId, cost } = await chargedRequest(database, team.client);
    const [admission] = await database.db
      .select({ scoringConfigVersion: gatewayRequests.scoringConfigVersion })
      .from(gatewayRequests)
      .where(eq(gatewayRequests.requestId, requestId));
    expect(admission).toEqual({ scoringConfigVersion: 1 });
    // The lead switches to a harsh plugin before this request is settled.
    await database.db.insert(scoringConfigs).values({
      teamId: team.teamId,
      version: 2,
      createdBy: 'lead',
      plugins: [{ pluginId: 'harsh', weight: 1, config: {} }],
    });
    const result = await temporal.client.workflow.execute('settleUsage', {
      taskQueue: temporal.taskQueue,
      workflowId: settlementWorkflowId(requestId),
      args: [{ requestId }],
      workflowExecutionTimeout: '60 seconds',
    });
    expect(result).toMatchObject({ status: 'settled', score: 0.9, refund: expectedRefund(cost) });
  });
});
