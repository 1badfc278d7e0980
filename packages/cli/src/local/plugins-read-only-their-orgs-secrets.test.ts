import { createOrg, findOrgSlug } from '@tokenwise/db';
import { settlements } from '@tokenwise/db/schema';
import { definePlugin } from '@tokenwise/plugin-sdk';
import { settlementWorkflowId, type SettlementResult } from '@tokenwise/workflows';
import {
  chargedRequest,
  createScoringTeam,
  expectedRefund,
  startSettlementWorld,
  type SettlementWorld,
} from '@tokenwise/workflows/testing/settlement';
import { eq } from 'drizzle-orm';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { startSettlementRuntime, type SettlementRuntime } from './settlement-runtime';

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/** As github-commits does with its token: reads a named secret while scoring, and logs that it did. */
const secretReader = definePlugin({
  id: 'secret-reader',
  version: '1.0.0',
  configSchema: z.object({}),
  score: async (_input, ctx) => {
    const token = ctx.secrets.get('REPO_TOKEN');
    ctx.logger.info('read the repository token', { chars: token.length });
    return {
      status: 'scored',
      score: 1,
      confidence: 1,
      evidence: { tokenSha256: sha256(token) },
      rationale: 'the token was there',
    };
  },
});

// The settlement path as the worker wires it: the runtime's contexts, each with its payer's org's secrets.
describe("a plugin in settlement reads its own org's secrets only", () => {
  const alphaToken = `ghp_alpha_${randomBytes(8).toString('hex')}`;
  const sharedToken = `ghp_shared_${randomBytes(8).toString('hex')}`;
  let settlement: SettlementWorld;
  let runtime: SettlementRuntime;
  let dataDir: string;
  let alphaVariable = '';
  const stderr: string[] = [];

  beforeAll(async () => {
    const write = process.stderr.write.bind(process.stderr) as (...args: unknown[]) => boolean;
    vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array, ...rest: unknown[]) => {
      stderr.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString());
      return write(chunk, ...rest);
    });
    dataDir = await mkdtemp(join(tmpdir(), 'tw-secrets-'));
    settlement = await startSettlementWorld([secretReader], {
      contextFor: async (world, database) => {
        const alpha = (await findOrgSlug(database.db, { orgId: world.orgId })) ?? '';
        alphaVariable = `TOKENWISE_SECRET_${alpha.toUpperCase().replaceAll('-', '_')}__REPO_TOKEN`;
        runtime = await startSettlementRuntime({
          db: database.db,
          ledger: world.ledger,
          keyPepper: world.keyPepper,
          dataDir,
          gatewayUrl: world.gateway.url,
          env: {
            [alphaVariable]: alphaToken,
            TOKENWISE_SECRET_REPO_TOKEN: sharedToken,
            TOKENWISE_SECRET_REPO_TOKEN_ORGS: 'secret-beta',
          },
        });
        return runtime.contextFor;
      },
    });
  });
  afterAll(async () => {
    vi.restoreAllMocks();
    await settlement?.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  const settle = (requestId: string): Promise<SettlementResult> =>
    settlement.temporal.client.workflow.execute('settleUsage', {
      taskQueue: settlement.temporal.taskQueue,
      workflowId: settlementWorkflowId(requestId),
      args: [{ requestId }],
    });

  it("scores with the org's own token, the shared one where _ORGS lists the org, and a ConfigError naming the variable elsewhere", async () => {
    const { database, world } = settlement;
    const db = database.db;
    const beta = (await createOrg(db, { actor: 'test', input: { slug: 'secret-beta', name: 'Beta' } })).id;
    const gamma = (await createOrg(db, { actor: 'test', input: { slug: 'secret-gamma', name: 'Gamma' } })).id;
    const teams = [
      await createScoringTeam(database, world, ['secret-reader']),
      await createScoringTeam(database, world, ['secret-reader'], beta),
      await createScoringTeam(database, world, ['secret-reader'], gamma),
    ];
    const requests = await Promise.all(teams.map((team) => chargedRequest(database, team.client)));
    const [alphaResult, betaResult, gammaResult] = await Promise.all(
      requests.map((request) => settle(request.requestId)),
    );

    const rowOf = async (requestId: string) =>
      (await db.select().from(settlements).where(eq(settlements.requestId, requestId)))[0];
    expect(alphaResult).toMatchObject({ status: 'settled', score: 1, refund: expectedRefund(requests[0]?.cost ?? 0n) });
    expect((await rowOf(requests[0]?.requestId ?? ''))?.results).toEqual([
      expect.objectContaining({ status: 'scored', evidence: { tokenSha256: sha256(alphaToken) } }),
    ]);
    expect(betaResult).toMatchObject({ status: 'settled', score: 1 });
    expect((await rowOf(requests[1]?.requestId ?? ''))?.results).toEqual([
      expect.objectContaining({ status: 'scored', evidence: { tokenSha256: sha256(sharedToken) } }),
    ]);

    expect(gammaResult).toMatchObject({ status: 'settled', refund: 0n });
    expect(gammaResult?.score).toBeUndefined();
    const gammaRow = await rowOf(requests[2]?.requestId ?? '');
    expect(gammaRow?.results).toEqual([expect.objectContaining({ pluginId: 'secret-reader', status: 'error' })]);
    const recorded = JSON.stringify({ results: gammaRow?.results, reason: gammaRow?.reason });
    expect(recorded).toContain(
      'Secret \\"REPO_TOKEN\\" is not configured for org \\"secret-gamma\\": set TOKENWISE_SECRET_SECRET_GAMMA__REPO_TOKEN, or share a deployment-wide TOKENWISE_SECRET_REPO_TOKEN',
    );
    expect(recorded).toContain('Secrets org \\"secret-gamma\\" can read: none.');
    expect(recorded).not.toContain(alphaVariable);
    for (const token of [alphaToken, sharedToken]) {
      expect(recorded).not.toContain(token);
      expect(stderr.join('')).not.toContain(token);
    }
  });

  it("gives a dry run (a user payer) the user's org's secrets, and an unknown org none", async () => {
    const { database } = settlement;
    const beta = (await createOrg(database.db, { actor: 'test', input: { slug: 'dry-beta', name: 'Dry' } })).id;
    const user = await runtime.contextFor('secret-reader', { kind: 'user', orgId: beta, userId: 'u-1' });
    expect(() => user.secrets.get('REPO_TOKEN')).toThrow(/set TOKENWISE_SECRET_DRY_BETA__REPO_TOKEN/);
    const judge = await runtime.contextFor('secret-reader', { kind: 'judge', orgId: settlement.world.orgId });
    expect(judge.secrets.get('REPO_TOKEN')).toBe(alphaToken);
    const missing = await runtime.contextFor('secret-reader', {
      kind: 'judge',
      orgId: '00000000-0000-4000-8000-000000000000',
    });
    expect(() => missing.secrets.get('REPO_TOKEN')).toThrow(/does not exist\. Configured secrets: none\./);
  });
});
