import { amountMax, grantBoundsDefault, grantTransferId } from '@tokenwise/core';
import { listAuditForEntity, setGrantBounds } from '@tokenwise/db';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fieldsOf, openApiFixture, type ApiFixture } from '../test-fixtures';

let f: ApiFixture;
beforeAll(async () => {
  f = await openApiFixture();
});
afterAll(async () => {
  await f?.close();
});

describe('grants', () => {
  it('an admin issues tokens idempotently by id, to a user, a team and the org, audited', async () => {
    const admin = await f.as(f.users.admin);
    // Beyond 2^53, and beyond the default grant bounds: the operator raised this org's.
    await setGrantBounds(f.db, {
      orgId: f.org.id,
      currency: 'innovation',
      bounds: { grantAmountMax: amountMax, monthlyIssuanceMax: amountMax },
      actor: 'system:operator',
    });
    const input = {
      id: 'welcome-emma',
      ownerType: 'user' as const,
      ownerId: f.users.employee.id,
      amount: 9_007_199_254_740_993n,
      reason: 'welcome',
    };
    const first = await admin.grants.issue(input);
    const again = await admin.grants.issue(input);
    expect(first).toMatchObject({ duplicate: false, available: 9_007_199_254_740_993n, currency: 'innovation' });
    expect(again).toMatchObject({ duplicate: true, available: 9_007_199_254_740_993n });
    expect(
      (await (await f.as(f.users.employee)).me.balances()).find((b) => b.currency === 'innovation')?.available,
    ).toBe(9_007_199_254_740_993n);
    await admin.grants.issue({
      id: 'team-eng',
      ownerType: 'team',
      ownerId: f.teams.eng.id,
      amount: 10n,
      reason: 'team',
    });
    await admin.grants.issue({
      id: 'org',
      ownerType: 'org',
      ownerId: f.org.id,
      amount: 10n,
      currency: 'priority',
      reason: 'org',
    });
    const audit = await listAuditForEntity(f.db, {
      entityType: 'ledger_transfer',
      entityId: grantTransferId(f.org.id, 'welcome-emma'),
    });
    expect(audit.map((row) => [row.action, row.actor])).toEqual([['ledger.grant', `user:${f.users.admin.id}`]]);
  });

  it('reusing an id for a different grant is CONFLICT; an owner outside the org is NOT_FOUND', async () => {
    const admin = await f.as(f.users.admin);
    await admin.grants.issue({ id: 'once', ownerType: 'user', ownerId: f.users.colleague.id, amount: 5n, reason: 'r' });
    await expect(
      admin.grants.issue({ id: 'once', ownerType: 'user', ownerId: f.users.colleague.id, amount: 6n, reason: 'r' }),
    ).rejects.toMatchObject({ code: 'CONFLICT' });
    await expect(
      admin.grants.issue({ id: 'x', ownerType: 'user', ownerId: f.otherAdmin.id, amount: 5n, reason: 'r' }),
    ).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(
      admin.grants.issue({ id: 'y', ownerType: 'org', ownerId: f.otherAdmin.orgId, amount: 5n, reason: 'r' }),
    ).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(
      admin.grants.issue({ id: 'z', ownerType: 'org', ownerId: f.org.id, amount: 0n, reason: 'r' }),
    ).rejects.toMatchObject({ code: 'BAD_REQUEST' });
    await expect(
      admin.grants.issue({
        id: 'w',
        ownerType: 'org',
        ownerId: f.org.id,
        amount: 1n,
        currency: 'doubloons',
        reason: 'r',
      }),
    ).rejects.toMatchObject({ code: 'BAD_REQUEST' });
  });

  it('an admin funds the org reward pool idempotently (audited); nobody else may', async () => {
    const admin = await f.as(f.users.admin);
    const input = { id: 'pool-q4', amount: 3_000_000n, reason: 'Q4 rewards' };
    const first = await admin.grants.fundRewardPool(input);
    const again = await admin.grants.fundRewardPool(input);
    expect(first).toMatchObject({ duplicate: false, currency: 'priority', amount: 3_000_000n, available: 3_000_000n });
    expect(again).toMatchObject({ duplicate: true, accountId: first.accountId, available: 3_000_000n });
    const audit = await listAuditForEntity(f.db, {
      entityType: 'ledger_transfer',
      entityId: grantTransferId(f.org.id, 'pool-q4'),
    });
    expect(audit.map((row) => [row.action, row.actor])).toEqual([['ledger.grant', `user:${f.users.admin.id}`]]);
    await expect(admin.grants.fundRewardPool({ id: 'pool-bad', amount: -1n, reason: 'r' })).rejects.toMatchObject({
      code: 'BAD_REQUEST',
    });
    for (const user of [f.users.employee, f.users.lead, f.users.esg]) {
      await expect(
        (await f.as(user)).grants.fundRewardPool({ id: 'nope', amount: 1n, reason: 'self' }),
      ).rejects.toMatchObject({ code: 'FORBIDDEN' });
    }
  });

  it("grant ids are the org's own: another org's admin can neither take an id first nor learn a grant's amount from a conflict", async () => {
    const admin = await f.as(f.users.admin);
    const other = await f.as(f.otherAdmin);
    // Globex's admin uses the id first (it is public knowledge Acme will use it), with an odd amount.
    const squat = await other.grants.issue({
      id: 'welcome-2027',
      ownerType: 'org',
      ownerId: f.otherAdmin.orgId,
      amount: 777_777n,
      reason: 'squat',
    });
    expect(squat).toMatchObject({
      id: 'welcome-2027',
      transferId: grantTransferId(f.otherAdmin.orgId, 'welcome-2027'),
      duplicate: false,
    });
    // Acme's grant with the same id is a new grant of Acme, not a conflict with (or replay of) Globex's.
    const acme = await admin.grants.issue({
      id: 'welcome-2027',
      ownerType: 'user',
      ownerId: f.users.colleague.id,
      amount: 5n,
      reason: 'welcome',
    });
    expect(acme).toMatchObject({
      id: 'welcome-2027',
      transferId: grantTransferId(f.org.id, 'welcome-2027'),
      duplicate: false,
      amount: 5n,
    });
    // A conflict is only ever with the caller's own org's grant, and names no amount.
    const conflict = await other.grants
      .issue({ id: 'welcome-2027', ownerType: 'org', ownerId: f.otherAdmin.orgId, amount: 1n, reason: 'probe' })
      .catch((error: unknown) => error);
    expect(conflict).toMatchObject({
      code: 'CONFLICT',
      message:
        'Grant id "welcome-2027" was already used in this org for a different grant; use a new id for a new grant.',
    });
    // Spelling another org's namespace into the id stays inside the caller's own.
    const spelled = await other.grants.issue({
      id: `${f.org.id}-welcome-2027`,
      ownerType: 'org',
      ownerId: f.otherAdmin.orgId,
      amount: 3n,
      reason: 'probe',
    });
    expect(spelled).toMatchObject({
      duplicate: false,
      transferId: grantTransferId(f.otherAdmin.orgId, `${f.org.id}-welcome-2027`),
    });
    await expect(
      other.grants.issue({
        id: 'bad id\u0000',
        ownerType: 'org',
        ownerId: f.otherAdmin.orgId,
        amount: 3n,
        reason: 'probe',
      }),
    ).rejects.toMatchObject({ code: 'BAD_REQUEST', message: expect.stringMatching(/Invalid grant id/) });
  });

  it("a grant beyond the org's bounds is FORBIDDEN, naming the bound, the amount and what is left this month; issuance shows the bounds", async () => {
    const other = await f.as(f.otherAdmin);
    await setGrantBounds(f.db, {
      orgId: f.otherAdmin.orgId,
      currency: 'priority',
      bounds: { grantAmountMax: 5_000_000n, monthlyIssuanceMax: 8_000_000n },
      actor: 'system:operator',
    });
    await other.grants.fundRewardPool({ id: 'pool-1', amount: 5_000_000n, reason: 'pool' });
    const refused = other.grants.fundRewardPool({ id: 'pool-2', amount: 4_000_000n, reason: 'pool' });
    await expect(refused).rejects.toMatchObject({
      code: 'FORBIDDEN',
      message: expect.stringMatching(
        /A grant of 4 priority exceeds org .*monthlyIssuanceMax of 8 priority per month: 3 priority is left for \d{4}-\d{2} \(UTC\)/,
      ),
    });
    const issuance = await other.grants.issuance();
    expect(issuance.find((row) => row.currency === 'priority')).toMatchObject({
      grantAmountMax: 5_000_000n,
      monthlyIssuanceMax: 8_000_000n,
      configured: true,
      issuedThisMonth: 5_000_000n,
      left: 3_000_000n,
      timeZone: 'UTC',
    });
    expect(issuance.find((row) => row.currency === 'innovation')).toMatchObject({
      configured: false,
      grantAmountMax: grantBoundsDefault.grantAmountMax,
    });
    await expect((await f.as(f.users.lead)).grants.issuance()).rejects.toMatchObject({ code: 'FORBIDDEN' });
  });

  it("an admin sets the org's monthly judge budget (audited, this month's funded at once) and tops the judge wallet up; nobody else may", async () => {
    const other = await f.as(f.otherAdmin);
    const set = await other.grants.setJudgeBudget({ currency: 'innovation', amount: 2_000_000n });
    expect(set).toMatchObject({
      amount: 2_000_000n,
      removed: false,
      thisMonth: { status: 'funded' },
      walletAvailable: 2_000_000n,
    });
    // A changed amount applies from next month: this month's is funded once.
    expect(await other.grants.setJudgeBudget({ currency: 'innovation', amount: 3_000_000n })).toMatchObject({
      thisMonth: { status: 'already_funded_this_month' },
      walletAvailable: 2_000_000n,
    });
    expect(
      await other.grants.fundJudgeWallet({
        id: 'judge-topup-1',
        currency: 'innovation',
        amount: 500_000n,
        reason: 'busy month',
      }),
    ).toMatchObject({ id: 'judge-topup-1', available: 2_500_000n });
    const budgets = await other.grants.judgeBudget();
    expect(budgets.find((row) => row.currency === 'innovation')).toMatchObject({
      monthlyAmount: 3_000_000n,
      walletAvailable: 2_500_000n,
      updatedBy: `user:${f.otherAdmin.id}`,
    });
    const audit = await listAuditForEntity(f.db, {
      entityType: 'judge_budget',
      entityId: `${f.otherAdmin.orgId}:innovation`,
    });
    expect(audit.map((row) => row.action)).toEqual(['judge_budget.set', 'judge_budget.set']);
    // Another org's judge wallet is untouched.
    expect(
      (await (await f.as(f.users.admin)).grants.judgeBudget()).find((row) => row.currency === 'innovation'),
    ).toMatchObject({ monthlyAmount: 0n, walletAvailable: 0n });
    for (const user of [f.users.employee, f.users.lead, f.users.esg]) {
      const caller = await f.as(user);
      await expect(caller.grants.setJudgeBudget({ currency: 'innovation', amount: 1n })).rejects.toMatchObject({
        code: 'FORBIDDEN',
      });
      await expect(
        caller.grants.fundJudgeWallet({ id: 'x', currency: 'innovation', amount: 1n, reason: 'r' }),
      ).rejects.toMatchObject({ code: 'FORBIDDEN' });
    }
  });

  it('employees, leads and esg officers may not grant', async () => {
    for (const user of [f.users.employee, f.users.lead, f.users.esg]) {
      await expect(
        (await f.as(user)).grants.issue({
          id: 'nope',
          ownerType: 'user',
          ownerId: user.id,
          amount: 1n,
          reason: 'self',
        }),
      ).rejects.toMatchObject({ code: 'FORBIDDEN' });
    }
  });
});

describe('monthly allowance', () => {
  it('an admin grants this month once; a second run moves nothing; others are refused', async () => {
    const admin = await f.as(f.users.admin);
    const first = await admin.grants.allowance({ ownerType: 'user', ownerId: f.users.lead.id, amount: 500n });
    const again = await admin.grants.allowance({ ownerType: 'user', ownerId: f.users.lead.id, amount: 500n });
    expect(first).toMatchObject({ duplicate: false, amount: 500n, timeZone: 'UTC' });
    expect(again).toMatchObject({ duplicate: true, period: first.period, transferId: first.transferId });
    for (const user of [f.users.employee, f.users.lead, f.users.esg]) {
      await expect(
        (await f.as(user)).grants.allowance({ ownerType: 'user', ownerId: user.id, amount: 1n }),
      ).rejects.toMatchObject({ code: 'FORBIDDEN' });
    }
  });
});

describe('allowance schedules', () => {
  it('an admin sets, lists, re-sets and removes schedules, each change audited', async () => {
    const admin = await f.as(f.users.admin);
    const employees = await admin.grants.setAllowanceSchedule({ role: 'employee', amount: 100n });
    expect(employees).toMatchObject({
      role: 'employee',
      currency: 'innovation',
      amount: 100n,
      removed: false,
      updatedBy: `user:${f.users.admin.id}`,
      warnings: [],
    });
    await admin.grants.setAllowanceSchedule({ role: 'lead', currency: 'priority', amount: 9_007_199_254_740_993n });
    expect(await admin.grants.allowanceSchedules()).toMatchObject([
      { role: 'employee', currency: 'innovation', amount: 100n },
      { role: 'lead', currency: 'priority', amount: 9_007_199_254_740_993n },
    ]);
    // Setting the same amount again leaves one schedule.
    await admin.grants.setAllowanceSchedule({ role: 'employee', amount: 100n });
    expect((await admin.grants.allowanceSchedules()).filter((row) => row.role === 'employee')).toHaveLength(1);

    expect(await admin.grants.setAllowanceSchedule({ role: 'lead', currency: 'priority', amount: 0n })).toEqual({
      role: 'lead',
      currency: 'priority',
      amount: 0n,
      removed: true,
      warnings: [],
    });
    expect(await admin.grants.allowanceSchedules()).toMatchObject([
      { role: 'employee', currency: 'innovation', amount: 100n },
    ]);
    // Removing what is not there changes nothing and writes no audit row.
    await admin.grants.setAllowanceSchedule({ role: 'lead', currency: 'priority', amount: 0n });

    const audit = async (role: string, currency: string) =>
      (
        await listAuditForEntity(f.db, {
          entityType: 'allowance_schedule',
          entityId: `${f.org.id}:${role}:${currency}`,
        })
      ).map((row) => [row.action, row.actor, row.before, row.after]);
    const actor = `user:${f.users.admin.id}`;
    expect(await audit('lead', 'priority')).toEqual([
      ['allowance_schedule.remove', actor, { amount: 9_007_199_254_740_993n }, null],
      ['allowance_schedule.set', actor, null, { amount: 9_007_199_254_740_993n }],
    ]);
    expect(await audit('employee', 'innovation')).toEqual([
      ['allowance_schedule.set', actor, { amount: 100n }, { amount: 100n }],
      ['allowance_schedule.set', actor, null, { amount: 100n }],
    ]);
    // Another org's admin sees only its own schedules.
    expect(await (await f.as(f.otherAdmin)).grants.allowanceSchedules()).toEqual([]);
  });

  it('warns when two roles have an allowance in the same currency, since a user holding both gets one', async () => {
    const admin = await f.as(f.users.admin);
    await admin.grants.setAllowanceSchedule({ role: 'esg', currency: 'priority', amount: 5n });
    const overlapping = await admin.grants.setAllowanceSchedule({ role: 'admin', currency: 'priority', amount: 7n });
    expect(overlapping.warnings).toEqual([
      'roles admin, esg all have a priority allowance: a user holding several of them gets one priority allowance a month, that of the first role in this order',
    ]);
    expect(
      (await admin.grants.setAllowanceSchedule({ role: 'admin', currency: 'priority', amount: 0n })).warnings,
    ).toEqual([]);
    await admin.grants.setAllowanceSchedule({ role: 'esg', currency: 'priority', amount: 0n });
  });

  it('invalid input names its field', async () => {
    const admin = await f.as(f.users.admin);
    expect(await fieldsOf(admin.grants.setAllowanceSchedule({ role: 'employee', amount: -1n }))).toEqual(['amount']);
    expect(
      await fieldsOf(admin.grants.setAllowanceSchedule({ role: 'employee', currency: 'doubloons', amount: 1n })),
    ).toEqual(['currency']);
    expect(await fieldsOf(admin.grants.setAllowanceSchedule({ role: 'boss' as 'employee', amount: 1n }))).toEqual([
      'role',
    ]);
    expect(
      await fieldsOf(admin.grants.setAllowanceSchedule({ role: 'employee', amount: 1 as unknown as bigint })),
    ).toEqual(['amount']);
  });

  it('employees, leads and esg officers may neither set nor list schedules', async () => {
    for (const user of [f.users.employee, f.users.lead, f.users.esg]) {
      const caller = await f.as(user);
      await expect(caller.grants.setAllowanceSchedule({ role: 'employee', amount: 1n })).rejects.toMatchObject({
        code: 'FORBIDDEN',
      });
      await expect(caller.grants.allowanceSchedules()).rejects.toMatchObject({ code: 'FORBIDDEN' });
    }
  });
});
