import { holdTransferId } from '@tokenwise/core';
import { setCarbonCap } from '@tokenwise/control';
import { createOrg, createTeam, createUser } from '@tokenwise/db';
import { describeEachBackend } from '@tokenwise/db/testing';
import { createLedger, type Ledger } from '@tokenwise/ledger';
import { randomBytes, randomUUID } from 'node:crypto';
import { notifications } from '@tokenwise/db/schema';
import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createCarbonBudgets, type CarbonPlan } from './carbon-budgets';
import type { Principal } from './ports';

const hold = 4_000_000n;

describeEachBackend('carbon budgets per period, in the org time zone', (database) => {
  let ledger: Ledger;
  beforeAll(() => {
    ledger = createLedger({ db: database().db, hmacKey: randomBytes(32) });
  });
  afterAll(async () => {
    await ledger?.close();
  });

  /** Submits a plan as admission does: funding first, then the linked holds. */
  async function place(plan: CarbonPlan, budgets: ReturnType<typeof createCarbonBudgets>) {
    const requestId = `req-${randomUUID()}`;
    const holds = plan.holds.map((entry, index) => ({
      type: 'pending' as const,
      id: holdTransferId(requestId, entry.slot),
      debitAccountId: entry.accountId,
      creditAccountId: plan.consumptionAccountId,
      amount: entry.amount,
      code: 'carbon_hold',
      timeoutSeconds: 600,
      linked: index < plan.holds.length - 1,
    }));
    const results = await ledger.submit([...plan.fundingOps, ...holds]);
    budgets.funded(plan, results.slice(0, plan.fundingOps.length));
    return results.slice(plan.fundingOps.length);
  }

  it("a new month in Tokyo starts a fresh budget funded at the cap, though it is still the old month in UTC; system usage holds on the org's only", async () => {
    const db = database().db;
    const org = await createOrg(db, {
      actor: 'test',
      input: { slug: `tokyo-${randomUUID().slice(0, 8)}`, name: 'Tokyo', timeZone: 'Asia/Tokyo' },
    });
    const team = await createTeam(db, { actor: 'test', input: { orgId: org.id, slug: 'eng', name: 'Eng' } });
    const user = await createUser(db, {
      actor: 'test',
      input: { orgId: org.id, teamId: team.id, email: 'kai@tokyo.test', displayName: 'Kai' },
    });
    let clock = new Date('2026-12-31T14:59:59Z'); // 23:59:59 on 31 December in Tokyo
    const deps = { db, ledger, now: () => clock };
    await setCarbonCap(deps, {
      orgId: org.id,
      timeZone: org.timeZone,
      actor: 'test',
      input: { scope: 'user', userId: user.id, period: 'month', hardGrams: 10 },
    });
    await setCarbonCap(deps, {
      orgId: org.id,
      timeZone: org.timeZone,
      actor: 'test',
      input: { scope: 'org', period: 'quarter', hardGrams: 1_000 },
    });
    const budgets = createCarbonBudgets({ ...deps, log: () => {} });
    const principal: Principal = {
      keyId: 'k',
      orgId: org.id,
      userId: user.id,
      teamId: team.id,
      systemOwner: null,
      scopes: ['inference'],
      allowedModels: null,
      rpmLimit: null,
      tpmLimit: null,
      carbonAwareRouting: true,
    };
    // December: two 4 g holds fit the 10 g cap, a third does not.
    const december = await budgets.plan(principal, () => hold);
    expect(december?.holds.map((entry) => [entry.scope, entry.period.period])).toEqual([
      ['user', '2026-12'],
      ['org', '2026-Q4'],
    ]);
    for (let i = 0; i < 2; i++) {
      const plan = await budgets.plan(principal, () => hold);
      expect((await place(plan as CarbonPlan, budgets)).every((result) => result.ok)).toBe(true);
    }
    const third = await place((await budgets.plan(principal, () => hold)) as CarbonPlan, budgets);
    expect(third[0]).toMatchObject({ ok: false, code: 'insufficient_funds' });

    // One second later it is 1 January in Tokyo (still 31 December in UTC): new budgets, funded once.
    clock = new Date('2026-12-31T15:00:00Z');
    const january = (await budgets.plan(principal, () => hold)) as CarbonPlan;
    expect(january.holds.map((entry) => [entry.scope, entry.period.period])).toEqual([
      ['user', '2027-01'],
      ['org', '2027-Q1'],
    ]);
    expect(january.holds[0]?.period.end.toISOString()).toBe('2027-01-31T15:00:00.000Z');
    expect(january.fundingOps.map((op) => op.code)).toEqual(['carbon_fund', 'carbon_fund']);
    expect((await place(january, budgets)).every((result) => result.ok)).toBe(true);
    expect(await ledger.balance(january.holds[0]?.accountId as string)).toMatchObject({
      posted: 10_000_000n,
      debitsPending: hold,
    });
    // Known funded now: the next request of the period funds nothing.
    expect(((await budgets.plan(principal, () => hold)) as CarbonPlan).fundingOps).toEqual([]);

    // The org's judge (a system key: no user, no team) counts in the org's cap alone.
    const system = { ...principal, userId: null, teamId: null, systemOwner: 'judge' };
    const judged = (await budgets.plan(system, () => hold)) as CarbonPlan;
    expect(judged.holds.map((entry) => entry.scope)).toEqual(['org']);
  });

  it('a soft alert counts what was emitted, not a cap cut: none at 4.5 g of a cap cut to 10 g, one at 5 g', async () => {
    const db = database().db;
    const org = await createOrg(db, {
      actor: 'test',
      input: { slug: `soft-${randomUUID().slice(0, 8)}`, name: 'Soft' },
    });
    const user = await createUser(db, {
      actor: 'test',
      input: { orgId: org.id, email: 'ada@soft.test', displayName: 'Ada' },
    });
    const deps = { db, ledger };
    const setCap = (hardGrams: number) =>
      setCarbonCap(deps, {
        orgId: org.id,
        timeZone: org.timeZone,
        actor: 'test',
        input: { scope: 'user', userId: user.id, period: 'month', hardGrams, softPercent: 50 },
      });
    await setCap(100);
    const budgets = createCarbonBudgets({ ...deps, refreshMs: 0, log: () => {} });
    const principal: Principal = {
      keyId: 'k',
      orgId: org.id,
      userId: user.id,
      teamId: null,
      systemOwner: null,
      scopes: ['inference'],
      allowedModels: null,
      rpmLimit: null,
      tpmLimit: null,
      carbonAwareRouting: true,
    };
    /** One request: holds 4 g, is charged `micrograms`, and the soft check runs as after a real charge. */
    const emit = async (micrograms: bigint) => {
      const plan = (await budgets.plan(principal, () => 4_000_000n)) as CarbonPlan;
      const [held] = await place(plan, budgets);
      expect(held).toMatchObject({ ok: true });
      const [posted] = await ledger.submit([
        {
          type: 'post',
          id: `charge-${randomUUID()}`,
          pendingId: (held as { transfer: { id: string } }).transfer.id,
          amount: micrograms,
        },
      ]);
      expect(posted).toMatchObject({ ok: true });
      budgets.afterCharge(principal, plan.holds, [posted?.ok ? posted.debitPosted : undefined]);
    };
    const alerts = () =>
      db
        .select()
        .from(notifications)
        .where(and(eq(notifications.userId, user.id), eq(notifications.kind, 'carbon_soft_threshold')));
    await emit(4_000_000n);
    // The cut leaves 10 - 4 = 6 g, and posts 90 g of debits on the budget that nobody emitted.
    await setCap(10);
    await emit(500_000n);
    await emit(500_000n);
    await expect.poll(async () => (await alerts()).length, { timeout: 5_000 }).toBe(1);
    const [alert] = await alerts();
    expect(alert?.payload).toMatchObject({ softPercent: 50, usedMicrograms: 5_000_000n, capMicrograms: 10_000_000n });
  });
});
