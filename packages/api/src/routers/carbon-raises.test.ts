import { carbonPeriodOf, carbonTransferId, type CarbonScope } from '@tokenwise/core';
import { createUser, publishCarbonCap, type User } from '@tokenwise/db';
import { outbox } from '@tokenwise/db/schema';
import { carbonBudgetKey } from '@tokenwise/ledger';
import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fieldsOf, openApiFixture, type ApiFixture } from '../test-fixtures';

let f: ApiFixture;
let secondEsg: User;
let otherEsg: User;

const capOn = (scope: CarbonScope, scopeId: string) =>
  publishCarbonCap(f.db, {
    orgId: f.org.id,
    scope,
    scopeId,
    period: 'month',
    hardMicrograms: 5_000_000_000n,
    softPercent: null,
    actor: 'test',
  });

/** What the scope's budget of the current month holds (posted), in micrograms. */
async function budgetOf(scope: CarbonScope, scopeId: string): Promise<bigint> {
  const period = carbonPeriodOf(new Date(), 'UTC', 'month');
  const account = await f.ledger.ensureAccount(carbonBudgetKey({ orgId: f.org.id, scope, scopeId, period }));
  return (await f.ledger.balance(account.id)).posted;
}

beforeAll(async () => {
  f = await openApiFixture();
  secondEsg = await createUser(f.db, {
    actor: 'test',
    input: { orgId: f.org.id, email: 'sven@acme.test', displayName: 'Sven', roles: ['esg'] },
  });
  otherEsg = await createUser(f.db, {
    actor: 'test',
    input: { orgId: f.otherAdmin.orgId, email: 'olga@globex.test', displayName: 'Olga', roles: ['esg'] },
  });
  await capOn('user', f.users.employee.id);
  await capOn('user', f.users.colleague.id);
  await capOn('team', f.teams.eng.id);
  await capOn('team', f.teams.ops.id);
  await capOn('org', f.org.id);
});
afterAll(async () => {
  await f?.close();
});

describe('carbon.requestRaise', () => {
  it('records a pending raise with a 3-day deadline and the outbox row that starts its workflow', async () => {
    const before = Date.now();
    const { raiseId } = await (
      await f.as(f.users.employee)
    ).carbon.requestRaise({ scope: 'user', grams: 250.5, reason: 'quarter-end eval run' });
    const [listed] = await (await f.as(f.users.employee)).carbon.raises({});
    expect(listed).toMatchObject({
      raiseId,
      scope: 'user',
      scopeId: f.users.employee.id,
      requestedBy: f.users.employee.id,
      requestedGrams: 250.5,
      state: 'pending',
      until: null,
    });
    const deadlineMs = Date.parse(listed?.deadlineAt ?? '') - before;
    expect(deadlineMs).toBeGreaterThanOrEqual(3 * 24 * 3600 * 1000 - 1000);
    expect(deadlineMs).toBeLessThan(3 * 24 * 3600 * 1000 + 60_000);
    const rows = await f.db.select().from(outbox).where(eq(outbox.requestId, raiseId));
    expect(rows.map((row) => row.kind)).toEqual(['carbon_raise_start']);
  });

  it('refuses a scope without a cap, saying there is nothing to raise', async () => {
    await expect(
      (await f.as(f.users.opsEmployee)).carbon.requestRaise({ scope: 'user', grams: 10, reason: 'more' }),
    ).rejects.toMatchObject({ code: 'BAD_REQUEST', message: expect.stringMatching(/no carbon cap/) });
  });

  it('lets a lead raise only their own team, and only ESG officers and admins the org', async () => {
    const lead = await f.as(f.users.lead);
    expect(
      (await lead.carbon.requestRaise({ scope: 'team', teamId: f.teams.eng.id, grams: 100, reason: 'launch' })).raiseId,
    ).toMatch(/^[0-9a-f-]{36}$/);
    // Without teamId, a lead's own team.
    const own = await lead.carbon.requestRaise({ scope: 'team', grams: 5, reason: 'own team' });
    expect((await lead.carbon.raises({})).find((raise) => raise.raiseId === own.raiseId)?.scopeId).toBe(f.teams.eng.id);
    await expect(
      lead.carbon.requestRaise({ scope: 'team', teamId: f.teams.ops.id, grams: 100, reason: 'launch' }),
    ).rejects.toMatchObject({ code: 'FORBIDDEN' });
    await expect(
      (await f.as(f.users.employee)).carbon.requestRaise({
        scope: 'team',
        teamId: f.teams.eng.id,
        grams: 1,
        reason: 'x',
      }),
    ).rejects.toMatchObject({ code: 'FORBIDDEN' });
    await expect(lead.carbon.requestRaise({ scope: 'org', grams: 1, reason: 'x' })).rejects.toMatchObject({
      code: 'FORBIDDEN',
    });
    const esg = await f.as(f.users.esg);
    expect((await esg.carbon.requestRaise({ scope: 'org', grams: 1, reason: 'x' })).raiseId).toEqual(
      expect.any(String),
    );
  });

  it('validates grams (more than 0, at most 6 decimals), the reason and until', async () => {
    const employee = await f.as(f.users.employee);
    const ask = (input: { grams: number; reason?: string; until?: string }) =>
      employee.carbon.requestRaise({ scope: 'user', reason: 'ok', ...input });
    expect(await fieldsOf(ask({ grams: 1.0000001 }))).toEqual(['grams']);
    expect(await fieldsOf(ask({ grams: 0 }))).toEqual(['grams']);
    expect(await fieldsOf(ask({ grams: -5 }))).toEqual(['grams']);
    expect(await fieldsOf(ask({ grams: 1, reason: '  ' }))).toEqual(['reason']);
    expect(await fieldsOf(ask({ grams: 1, reason: 'r'.repeat(1001) }))).toEqual(['reason']);
    expect(await fieldsOf(ask({ grams: 1, until: '2020-01-01' }))).toEqual(['until']);
    expect(await fieldsOf(ask({ grams: 1, until: `${new Date().getUTCFullYear() + 2}-01-01` }))).toEqual(['until']);
    expect(await fieldsOf(ask({ grams: 1, until: '2026-02-30' }))).toEqual(['until']);
    expect((await ask({ grams: 0.000001 })).raiseId).toEqual(expect.any(String));
  });
});

describe('carbon.decideRaise', () => {
  const askColleague = async (grams: number) =>
    (await (await f.as(f.users.colleague)).carbon.requestRaise({ scope: 'user', grams, reason: 'batch job' })).raiseId;

  it('is for ESG officers of the raise’s org only', async () => {
    const raiseId = await askColleague(10);
    for (const user of [f.users.employee, f.users.lead, f.users.admin])
      await expect((await f.as(user)).carbon.decideRaise({ raiseId, decision: 'approve' })).rejects.toMatchObject({
        code: 'FORBIDDEN',
        message: expect.stringMatching(/esg/),
      });
    await expect((await f.as(otherEsg)).carbon.decideRaise({ raiseId, decision: 'approve' })).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
    expect((await (await f.as(otherEsg)).carbon.raises({})).map((raise) => raise.raiseId)).not.toContain(raiseId);
  });

  it('grants less than asked, never more, and the budget holds the grant when the call returns', async () => {
    const raiseId = await askColleague(40);
    const esg = await f.as(f.users.esg);
    expect(await fieldsOf(esg.carbon.decideRaise({ raiseId, decision: 'approve', grams: 40.5 }))).toEqual(['grams']);
    const before = await budgetOf('user', f.users.colleague.id);
    const decided = await esg.carbon.decideRaise({ raiseId, decision: 'approve', grams: 12.25, note: 'half now' });
    expect(decided).toEqual({ raiseId, state: 'approved', decidedBy: f.users.esg.id, grantedGrams: 12.25 });
    expect((await budgetOf('user', f.users.colleague.id)) - before).toBe(12_250_000n);
    const transfer = (
      await f.ledger.history(
        (
          await f.ledger.ensureAccount(
            carbonBudgetKey({
              orgId: f.org.id,
              scope: 'user',
              scopeId: f.users.colleague.id,
              period: carbonPeriodOf(new Date(), 'UTC', 'month'),
            }),
          )
        ).id,
      )
    ).find((row) => row.id === carbonTransferId.raise(raiseId));
    expect(transfer).toMatchObject({ code: 'carbon_raise', amount: 12_250_000n });
    const decidedRows = await f.db
      .select()
      .from(outbox)
      .where(and(eq(outbox.requestId, raiseId), eq(outbox.kind, 'carbon_raise_decided')));
    expect(decidedRows).toHaveLength(1);
  });

  it('lets the first decision win: a second one is CONFLICT naming who decided, and nothing is granted twice', async () => {
    const raiseId = await askColleague(30);
    const before = await budgetOf('user', f.users.colleague.id);
    expect((await (await f.as(f.users.esg)).carbon.decideRaise({ raiseId, decision: 'approve' })).grantedGrams).toBe(
      30,
    );
    await expect(
      (await f.as(secondEsg)).carbon.decideRaise({ raiseId, decision: 'deny', note: 'too much' }),
    ).rejects.toMatchObject({
      code: 'CONFLICT',
      message: expect.stringMatching(/already approved by esther <esther@acme\.test> at 20/),
    });
    expect((await budgetOf('user', f.users.colleague.id)) - before).toBe(30_000_000n);
  });

  it('a denial grants nothing and is what the requester sees', async () => {
    const raiseId = await askColleague(5);
    const before = await budgetOf('user', f.users.colleague.id);
    expect(await (await f.as(secondEsg)).carbon.decideRaise({ raiseId, decision: 'deny', note: 'no' })).toEqual({
      raiseId,
      state: 'denied',
      decidedBy: secondEsg.id,
      grantedGrams: null,
    });
    expect(await budgetOf('user', f.users.colleague.id)).toBe(before);
    const mine = await (await f.as(f.users.colleague)).carbon.raises({ state: 'denied' });
    expect(mine.map((raise) => [raise.raiseId, raise.note])).toContainEqual([raiseId, 'no']);
  });
});

describe('carbon.raises', () => {
  it('shows ESG officers and admins the org, a lead the team and their own, an employee their own', async () => {
    const ids = async (user: User) => (await (await f.as(user)).carbon.raises({})).map((raise) => raise.requestedBy);
    const all = await ids(f.users.esg);
    expect(new Set(all)).toEqual(new Set([f.users.employee.id, f.users.colleague.id, f.users.lead.id, f.users.esg.id]));
    expect(await ids(f.users.admin)).toEqual(all);
    expect(new Set(await ids(f.users.employee))).toEqual(new Set([f.users.employee.id]));
    expect(new Set(await ids(f.users.lead))).toEqual(
      new Set([f.users.employee.id, f.users.colleague.id, f.users.lead.id]),
    );
    expect(await ids(f.otherAdmin)).toEqual([]);
    const pending = await (await f.as(f.users.esg)).carbon.raises({ state: 'pending' });
    expect(pending.length).toBeGreaterThan(0);
    expect(pending.every((raise) => raise.state === 'pending')).toBe(true);
  });
});
