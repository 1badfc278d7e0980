import { carbonPeriodOf } from '@tokenwise/core';
import { listAuditForEntity } from '@tokenwise/db';
import { carbonBudgetKey } from '@tokenwise/ledger';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openApiFixture, type ApiFixture } from '../test-fixtures';

let f: ApiFixture;
beforeAll(async () => {
  f = await openApiFixture();
});
afterAll(async () => {
  await f?.close();
});

/** Takes `grams` from a budget as a request's charge would (a hold posted in full). */
async function emit(scope: 'team' | 'org' | 'user', scopeId: string, micrograms: bigint, id: string) {
  const period = carbonPeriodOf(new Date(), 'UTC', 'month');
  const budget = await f.ledger.ensureAccount(carbonBudgetKey({ orgId: f.org.id, scope, scopeId, period }));
  const sink = await f.ledger.ensureAccount({
    ownerType: 'system',
    ownerId: 'consumption',
    currency: 'carbon',
    purpose: 'consumption',
  });
  const [result] = await f.ledger.submit([
    { type: 'transfer', id, debitAccountId: budget.id, creditAccountId: sink.id, amount: micrograms, code: 'test' },
  ]);
  expect(result?.ok).toBe(true);
}

describe('carbon caps', () => {
  it('ESG officers and admins set caps as audited versions; status shows the budget in grams', async () => {
    const esg = await f.as(f.users.esg);
    const cap = await esg.carbon.setCap({
      scope: 'team',
      teamId: f.teams.eng.id,
      period: 'month',
      hardGrams: 500.25,
      softPercent: 80,
    });
    expect(cap).toMatchObject({
      scope: 'team',
      teamId: f.teams.eng.id,
      hardGrams: 500.25,
      softPercent: 80,
      version: 1,
    });
    const admin = await f.as(f.users.admin);
    await admin.carbon.setCap({ scope: 'org', period: 'quarter', hardGrams: 10_000 });

    const status = await (await f.as(f.users.employee)).carbon.status();
    expect(status.team).toMatchObject({
      period: carbonPeriodOf(new Date(), 'UTC', 'month'),
      capGrams: 500.25,
      usedGrams: 0,
      heldGrams: 0,
      remainingGrams: 500.25,
      softPercent: 80,
    });
    expect(status.org).toMatchObject({ capGrams: 10_000, period: carbonPeriodOf(new Date(), 'UTC', 'quarter') });
    expect(status.user).toMatchObject({ capGrams: null, remainingGrams: null, usedGrams: 0 });
    expect(new Date(status.team?.resetsAt ?? '').getUTCDate()).toBe(1);
    // An ESG officer has no team.
    expect((await esg.carbon.status()).team).toBeNull();

    const audit = await listAuditForEntity(f.db, { entityType: 'carbon_cap_team', entityId: f.teams.eng.id });
    expect(audit).toHaveLength(1);
  });

  it('a change mid-period moves the current budget by the difference, never below zero; null removes the cap', async () => {
    const esg = await f.as(f.users.esg);
    const teamId = f.teams.ops.id;
    await esg.carbon.setCap({ scope: 'team', teamId, period: 'month', hardGrams: 100 });
    await emit('team', teamId, 30_000_000n, `test-emit-${teamId}-1`);
    const viewer = await f.as(f.users.admin);
    expect((await viewer.carbon.status()).team).toMatchObject({ usedGrams: 30, remainingGrams: 70 });
    await esg.carbon.setCap({ scope: 'team', teamId, period: 'month', hardGrams: 150 });
    expect((await viewer.carbon.status()).team).toMatchObject({ capGrams: 150, usedGrams: 30, remainingGrams: 120 });
    await esg.carbon.setCap({ scope: 'team', teamId, period: 'month', hardGrams: 60 });
    expect((await viewer.carbon.status()).team).toMatchObject({ capGrams: 60, remainingGrams: 30 });
    // Cut below what was used: the budget goes to zero, not below.
    await esg.carbon.setCap({ scope: 'team', teamId, period: 'month', hardGrams: 10 });
    expect((await viewer.carbon.status()).team).toMatchObject({ capGrams: 10, usedGrams: 30, remainingGrams: 0 });
    // Raised again: to what the new cap leaves after what was used (50 - 30), not the 40 of the difference,
    // which would let the team emit 70 g under a 50 g cap.
    await esg.carbon.setCap({ scope: 'team', teamId, period: 'month', hardGrams: 50 });
    expect((await viewer.carbon.status()).team).toMatchObject({ capGrams: 50, remainingGrams: 20 });
    await esg.carbon.setCap({ scope: 'team', teamId, period: 'month', hardGrams: null });
    expect((await viewer.carbon.status()).team).toMatchObject({ capGrams: null, remainingGrams: null });
    expect((await esg.carbon.caps()).some((cap) => cap.scope === 'team' && cap.scopeId === teamId)).toBe(false);
  });

  it('refuses employees and leads, other orgs, ids that do not fit the scope, and grams beyond micrograms', async () => {
    for (const user of [f.users.employee, f.users.lead]) {
      await expect(
        (await f.as(user)).carbon.setCap({ scope: 'org', period: 'month', hardGrams: 1 }),
      ).rejects.toMatchObject({ code: 'FORBIDDEN' });
    }
    const esg = await f.as(f.users.esg);
    await expect(
      esg.carbon.setCap({ scope: 'user', userId: f.otherAdmin.id, period: 'month', hardGrams: 1 }),
    ).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(esg.carbon.setCap({ scope: 'team', period: 'month', hardGrams: 1 })).rejects.toThrow(/needs teamId/);
    await expect(
      esg.carbon.setCap({ scope: 'org', teamId: f.teams.eng.id, period: 'month', hardGrams: 1 }),
    ).rejects.toThrow(/neither teamId nor userId/);
    await expect(esg.carbon.setCap({ scope: 'org', period: 'month', hardGrams: 1.0000001 })).rejects.toMatchObject({
      code: 'BAD_REQUEST',
    });
    await expect(esg.carbon.setCap({ scope: 'org', period: 'month', hardGrams: -1 })).rejects.toMatchObject({
      code: 'BAD_REQUEST',
    });
    await expect(
      esg.carbon.setCap({ scope: 'org', period: 'month', hardGrams: null, softPercent: 50 }),
    ).rejects.toThrow(/softPercent is a share of the hard cap/);
  });

  it('caps() shows a user the org, their team and their own caps; ESG officers every one', async () => {
    const esg = await f.as(f.users.esg);
    await esg.carbon.setCap({ scope: 'user', userId: f.users.colleague.id, period: 'month', hardGrams: 5 });
    await esg.carbon.setCap({ scope: 'user', userId: f.users.opsEmployee.id, period: 'month', hardGrams: 5 });
    const seenBy = async (user: (typeof f.users)[keyof typeof f.users]) =>
      (await (await f.as(user)).carbon.caps()).map((cap) => cap.scopeId);
    expect(await seenBy(f.users.esg)).toEqual(
      expect.arrayContaining([f.users.colleague.id, f.users.opsEmployee.id, f.org.id]),
    );
    const employee = await seenBy(f.users.employee);
    expect(employee).toContain(f.org.id);
    expect(employee).not.toContain(f.users.colleague.id);
    expect(employee).not.toContain(f.users.opsEmployee.id);
    const lead = await seenBy(f.users.lead);
    expect(lead).toContain(f.users.colleague.id);
    expect(lead).not.toContain(f.users.opsEmployee.id);
  });
});
