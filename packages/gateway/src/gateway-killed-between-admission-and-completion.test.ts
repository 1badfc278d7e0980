import { estimateAdmission, type PriorityTier } from '@tokenwise/core';
import { gatewayRequests } from '@tokenwise/db/schema';
import { checkInvariants, getTransfer } from '@tokenwise/ledger';
import { describeEachBackend } from '@tokenwise/db/testing';
import { randomUUID } from 'node:crypto';
import { eq } from 'drizzle-orm';
import OpenAI from 'openai';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { admit } from './metering';
import { createPayerAccounts } from './payer-accounts';
import {
  loadNewestPriceList,
  closeAbandonedAdmissions,
  findAbandonedAdmissions,
  setCarbonCap,
} from '@tokenwise/control';
import { createCarbonBudgets, type CarbonBudgets } from './carbon-budgets';
import { gatewaySettingsSchema, holdTimeoutSeconds } from './settings';
import { startGatewayWorld, testModel, waitForUsageRows, type GatewayWorld } from './test-kit';

const settings = gatewaySettingsSchema.parse({ completionTokensCap: 64 });
/** What an operator passes: older than the longest request the gateway may still be serving, plus a margin. */
const cutoff = () => new Date(Date.now() - settings.requestTimeoutMs - 60_000);
/** The same cutoff once that much time has passed since the admissions below. */
const cutoffLater = () => new Date(Date.now() + 1_000);
const limit = 200;

describeEachBackend('a gateway killed between admission and completion', (database) => {
  let world: GatewayWorld;
  beforeAll(async () => {
    world = await startGatewayWorld(database(), { settings });
  });
  afterAll(async () => {
    await world?.close();
  });
  const client = (apiKey: string) => new OpenAI({ apiKey, baseURL: `${world.gateway.url}/v1`, maxRetries: 0 });

  /** What the gateway does before it forwards the request; then it "dies": nothing completes the request. */
  async function admitAndDie(
    user: Awaited<ReturnType<GatewayWorld['user']>>,
    tier: PriorityTier = 'normal',
    holdSeconds = holdTimeoutSeconds(settings),
    carbon?: { budgets: CarbonBudgets; bound: bigint },
  ) {
    const priceList = await loadNewestPriceList(database().db);
    if (priceList === undefined) throw new Error('no price list');
    const estimate = estimateAdmission({
      endpoint: 'chat',
      priceList: priceList.list,
      modelId: testModel,
      tier,
      body: { model: testModel, messages: [{ role: 'user', content: 'never answered' }], max_tokens: 20 },
      policy: {
        completionTokensCap: settings.completionTokensCap,
        enforceCompletionTokensCap: settings.enforceCompletionTokensCap,
      },
    });
    const requestId = `req-${randomUUID()}`;
    const principal = {
      keyId: user.keyId,
      orgId: world.orgId,
      userId: user.userId,
      teamId: null,
      systemOwner: null,
      scopes: ['inference' as const],
      allowedModels: null,
      rpmLimit: null,
      tpmLimit: null,
    };
    const carbonPlan = await carbon?.budgets.plan(principal, () => carbon.bound);
    const admission = await admit(
      {
        ledger: world.ledger,
        accounts: createPayerAccounts(world.ledger),
        holdTimeoutSeconds: holdSeconds,
        carbon: carbon?.budgets,
      },
      {
        carbonPlan,
        requestId,
        principal,
        model: testModel,
        tier,
        priceList,
        estimate,
        system: false,
        policyVersion: null,
        scoringConfigVersion: null,
      },
    );
    return { requestId, admission };
  }

  const listed = async (olderThan: Date) =>
    (await findAbandonedAdmissions(database().db, { olderThan, limit })).map((row) => row.requestId);

  it('leaves an admission row and a pending hold behind', async () => {
    const user = await world.user({ innovation: 1_000_000n });
    const { requestId, admission } = await admitAndDie(user);
    const [row] = await database().db.select().from(gatewayRequests).where(eq(gatewayRequests.requestId, requestId));
    expect(row).toMatchObject({ model: testModel, userId: user.userId, currency: 'innovation' });
    const held = admission.holds[0]?.amount ?? 0n;
    expect(held).toBeGreaterThan(0n);
    expect(await world.ledger.balance(user.wallets.innovation as string)).toMatchObject({
      posted: 1_000_000n,
      debitsPending: held,
      available: 1_000_000n - held,
    });
    expect(await getTransfer(database().db, `hold-${requestId}-innovation`)).toMatchObject({
      type: 'pending',
      amount: held,
    });
  });

  it('lists an abandoned admission only once it is older than the cutoff, with its pending hold', async () => {
    const user = await world.user({ innovation: 1_000_000n });
    const { requestId } = await admitAndDie(user);
    expect(await listed(cutoff())).not.toContain(requestId);
    const [found] = (await findAbandonedAdmissions(database().db, { olderThan: cutoffLater(), limit })).filter(
      (row) => row.requestId === requestId,
    );
    expect(found).toMatchObject({ requestId, model: testModel, holdIds: [`hold-${requestId}-innovation`] });
    expect(found?.createdAt).toBeInstanceOf(Date);
    expect(Math.abs((found?.createdAt.getTime() ?? 0) - Date.now())).toBeLessThan(60_000);
  });

  it('does not close what is younger than the cutoff', async () => {
    const user = await world.user({ innovation: 1_000_000n });
    await admitAndDie(user);
    const before = await world.ledger.balance(user.wallets.innovation as string);
    // Older abandoned admissions of this file may exist; none is as young as the cutoff allows.
    await closeAbandonedAdmissions({ db: database().db, ledger: world.ledger }, { olderThan: cutoff(), limit });
    expect(await world.ledger.balance(user.wallets.innovation as string)).toEqual(before);
  });

  it('voids every hold of an abandoned request, in each currency, so the wallet gets every token back; a rerun closes nothing', async () => {
    const user = await world.user({ innovation: 1_000_000n, priority: 100_000n });
    const { requestId, admission } = await admitAndDie(user, 'urgent');
    expect(admission.holds.map((hold) => hold.currency).sort()).toEqual(['innovation', 'priority']);
    expect((await world.ledger.balance(user.wallets.priority as string)).debitsPending).toBeGreaterThan(0n);

    const closed = await closeAbandonedAdmissions(
      { db: database().db, ledger: world.ledger },
      { olderThan: cutoffLater(), limit },
    );
    expect(closed).toBeGreaterThanOrEqual(1);
    for (const currency of ['innovation', 'priority']) {
      expect(await getTransfer(database().db, `void-${requestId}-${currency}`)).toMatchObject({
        type: 'void',
        pendingId: `hold-${requestId}-${currency}`,
        userData: { reason: 'reconciliation: request never completed' },
      });
    }
    expect(await world.ledger.balance(user.wallets.innovation as string)).toMatchObject({
      posted: 1_000_000n,
      debitsPending: 0n,
      available: 1_000_000n,
    });
    expect(await world.ledger.balance(user.wallets.priority as string)).toMatchObject({
      posted: 100_000n,
      debitsPending: 0n,
      available: 100_000n,
    });
    expect(await listed(cutoffLater())).toEqual([]);

    expect(
      await closeAbandonedAdmissions({ db: database().db, ledger: world.ledger }, { olderThan: cutoffLater(), limit }),
    ).toBe(0);
    expect(await world.ledger.balance(user.wallets.innovation as string)).toMatchObject({
      posted: 1_000_000n,
      debitsPending: 0n,
    });
  });

  it("voids the carbon holds of an abandoned request too: the user's and org's budgets get it all back", async () => {
    const user = await world.user({ innovation: 1_000_000n });
    const db = database().db;
    const deps = { db, ledger: world.ledger };
    await setCarbonCap(deps, {
      orgId: world.orgId,
      timeZone: 'UTC',
      actor: 'test',
      input: { scope: 'user', userId: user.userId, period: 'month', hardGrams: 10 },
    });
    const budgets = createCarbonBudgets({ ...deps, log: () => {} });
    const { requestId, admission } = await admitAndDie(user, 'normal', holdTimeoutSeconds(settings), {
      budgets,
      bound: 2_500_000n,
    });
    expect(admission.carbonHolds.map((hold) => [hold.slot, hold.amount])).toEqual([['carbon-user', 2_500_000n]]);
    const budget = admission.carbonHolds[0]?.accountId as string;
    expect(await world.ledger.balance(budget)).toMatchObject({ posted: 10_000_000n, debitsPending: 2_500_000n });
    const [found] = (await findAbandonedAdmissions(db, { olderThan: cutoffLater(), limit })).filter(
      (row) => row.requestId === requestId,
    );
    expect(found?.holdIds).toEqual([`hold-${requestId}-carbon-user`, `hold-${requestId}-innovation`]);
    await closeAbandonedAdmissions(deps, { olderThan: cutoffLater(), limit });
    expect(await getTransfer(db, `void-${requestId}-carbon-user`)).toMatchObject({ type: 'void' });
    expect(await world.ledger.balance(budget)).toMatchObject({ posted: 10_000_000n, debitsPending: 0n });
  });

  it('closes a request whose hold already lapsed but was not yet released, as that expiry', async () => {
    const user = await world.user({ innovation: 1_000_000n });
    const { requestId } = await admitAndDie(user, 'normal', 1);
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    expect(await listed(cutoffLater())).toContain(requestId);
    expect(
      await closeAbandonedAdmissions({ db: database().db, ledger: world.ledger }, { olderThan: cutoffLater(), limit }),
    ).toBe(1);
    expect(await getTransfer(database().db, `expire-hold-${requestId}-innovation`)).toMatchObject({ type: 'expire' });
    expect(await getTransfer(database().db, `void-${requestId}-innovation`)).toBeUndefined();
    expect(await world.ledger.balance(user.wallets.innovation as string)).toMatchObject({
      posted: 1_000_000n,
      debitsPending: 0n,
    });
    expect(await world.ledger.expireDue()).toBe(0);
  });

  it('never lists a request that completed, or one whose failure already released its hold', async () => {
    const user = await world.user({ innovation: 1_000_000n });
    const { response } = await client(user.apiKey)
      .chat.completions.create({ model: testModel, messages: [{ role: 'user', content: 'hello' }], max_tokens: 8 })
      .withResponse();
    const completed = response.headers.get('x-request-id') as string;
    await waitForUsageRows(database(), { requestId: completed });
    const streamed = await client(user.apiKey).chat.completions.create({
      model: testModel,
      messages: [{ role: 'user', content: 'stream' }],
      max_tokens: 8,
      stream: true,
    });
    for await (const _chunk of streamed) {
      // drain
    }
    await waitForUsageRows(database(), { userId: user.userId }, 2);

    for (const sim of world.sims) sim.setFaults({ errorRate: 1 });
    try {
      const failed = await client(user.apiKey)
        .chat.completions.create({ model: testModel, messages: [{ role: 'user', content: 'x' }] })
        .catch((error: unknown) => error);
      expect(failed).toMatchObject({ status: 502 });
    } finally {
      for (const sim of world.sims) sim.clearFaults();
    }
    const admitted = await database()
      .db.select({ requestId: gatewayRequests.requestId })
      .from(gatewayRequests)
      .where(eq(gatewayRequests.userId, user.userId));
    expect(admitted).toHaveLength(3);
    const abandoned = await listed(cutoffLater());
    for (const { requestId } of admitted) expect(abandoned).not.toContain(requestId);

    const before = await world.ledger.balance(user.wallets.innovation as string);
    expect(before.debitsPending).toBe(0n);
    expect(
      await closeAbandonedAdmissions({ db: database().db, ledger: world.ledger }, { olderThan: cutoffLater(), limit }),
    ).toBe(0);
    expect(await world.ledger.balance(user.wallets.innovation as string)).toEqual(before);
  });

  it('refuses an unbounded batch', async () => {
    await expect(findAbandonedAdmissions(database().db, { olderThan: cutoffLater(), limit: 0 })).rejects.toThrow(
      /limit must be a whole number from 1 to 200/,
    );
    await expect(findAbandonedAdmissions(database().db, { olderThan: cutoffLater(), limit: 201 })).rejects.toThrow(
      /limit/,
    );
  });

  it('leaves the ledger sound', async () => {
    expect(await checkInvariants(database().db)).toEqual([]);
  });
});
