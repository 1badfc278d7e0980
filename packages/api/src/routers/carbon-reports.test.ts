import { usageRecords } from '@tokenwise/db/schema';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { carbonReportCsv } from '../carbon-report-csv';
import { fieldsOf, insertUsage, openApiFixture, type ApiFixture } from '../test-fixtures';

let f: ApiFixture;
const december = { from: '2026-12-01', to: '2027-01-01' } as const;
const at = (day: number) => new Date(Date.UTC(2026, 11, day, 12));

beforeAll(async () => {
  f = await openApiFixture();
  await insertUsage(f.db, { user: f.users.employee, createdAt: at(1), score: 0.5 });
  await insertUsage(f.db, { user: f.users.colleague, createdAt: at(2), score: 0 });
  await insertUsage(f.db, { user: f.users.lead, createdAt: at(3) });
  await insertUsage(f.db, { user: f.users.opsEmployee, createdAt: at(4), score: 1 });
  await insertUsage(f.db, { user: f.otherAdmin, createdAt: at(5) });
  // A judge call: system usage, no person, no team.
  await f.db.insert(usageRecords).values({
    requestId: 'judge-1',
    orgId: f.org.id,
    keyId: 'judgekey0000',
    model: 'llama-8b',
    cluster: 'local',
    replica: 'r0',
    tier: 'low',
    promptTokens: 500,
    completionTokens: 10,
    currency: 'innovation',
    cost: 1n,
    priceListVersion: 1,
    latencyMs: 5,
    co2eMicrograms: 2_000_000n,
    operationalCo2eMicrograms: 1_500_000n,
    embodiedCo2eMicrograms: 500_000n,
    energyMicroWh: 7_000n,
    system: true,
    outcome: 'completed',
    createdAt: at(6),
  });
});
afterAll(async () => {
  await f?.close();
});

describe('carbon.report visibility', () => {
  const usersOf = async (user: ApiFixture['users'][keyof ApiFixture['users']]) =>
    (await (await f.as(user)).carbon.report({ ...december, groupBy: 'user' })).map((row) => row.key).sort();

  it('ESG officers and admins see the whole org, judge calls included as system; never another org', async () => {
    const everyone = [f.users.employee.id, f.users.colleague.id, f.users.lead.id, f.users.opsEmployee.id, 'system'];
    expect(await usersOf(f.users.esg)).toEqual(everyone.sort());
    expect(await usersOf(f.users.admin)).toEqual(everyone.sort());
    const other = await (await f.as(f.otherAdmin)).carbon.report({ ...december, groupBy: 'team' });
    expect(other).toEqual([expect.objectContaining({ key: 'no-team', requests: 1 })]);
  });

  it('a lead sees their team, an employee only themselves', async () => {
    expect(await usersOf(f.users.lead)).toEqual([f.users.employee.id, f.users.colleague.id, f.users.lead.id].sort());
    expect(await usersOf(f.users.employee)).toEqual([f.users.employee.id]);
    const byModel = await (await f.as(f.users.employee)).carbon.report({ ...december, groupBy: 'model' });
    expect(byModel).toEqual([expect.objectContaining({ key: 'llama-8b', requests: 1, totalGrams: 1.5 })]);
  });

  it('reportCsv is the same report as CSV, for the same audience', async () => {
    const lead = await f.as(f.users.lead);
    const csv = await lead.carbon.reportCsv({ ...december, groupBy: 'team' });
    expect(csv).toBe(carbonReportCsv(await lead.carbon.report({ ...december, groupBy: 'team' })));
    expect(csv.split('\r\n')).toEqual([
      'key,label,requests,prompt_tokens,completion_tokens,energy_kwh,operational_gco2e,embodied_gco2e,total_gco2e,gco2e_per_1k_tokens,gco2e_per_value',
      // 4.5 g over 3,000 tokens; 3 g over the scores 0.5 + 0.
      `${f.teams.eng.id},eng,3,300,2700,0.00003,0,0,4.5,1.5,6`,
      '',
    ]);
  });

  it('signed-out callers are refused', async () => {
    await expect((await f.anonymous()).carbon.report({ ...december, groupBy: 'day' })).rejects.toMatchObject({
      code: 'UNAUTHORIZED',
    });
  });
});

describe('carbon.report validation', () => {
  const report = async (input: Record<string, unknown>) =>
    (await f.as(f.users.esg)).carbon.report(input as { from: string; to: string; groupBy: 'day' });
  const messageOf = (call: Promise<unknown>) =>
    call.then(
      () => 'no error',
      (error: { code?: string; message: string }) => `${error.code}: ${error.message}`,
    );

  it('refuses malformed and impossible dates, naming the field and the format', async () => {
    expect(await fieldsOf(report({ ...december, from: '2026-12-1', groupBy: 'day' }))).toEqual(['from']);
    expect(await messageOf(report({ ...december, from: '2026-02-30', groupBy: 'day' }))).toMatch(
      /^BAD_REQUEST: [\s\S]*from must be an ISO date YYYY-MM-DD, such as 2026-12-01; got \\?"2026-02-30\\?"/,
    );
    expect(await fieldsOf(report({ ...december, to: '2027-01-01T00:00:00Z', groupBy: 'day' }))).toEqual(['to']);
    expect(await messageOf(report({ ...december, groupBy: 'week' }))).toMatch(
      /groupBy must be one of team, user, model, cluster, day/,
    );
  });

  it('refuses an empty or reversed range, and one over 400 days, saying what to do', async () => {
    expect(await messageOf(report({ from: '2026-12-01', to: '2026-12-01', groupBy: 'day' }))).toMatch(
      /to \(2026-12-01\) must be after from \(2026-12-01\); to is exclusive, so one day is from=2026-12-01&to=2026-12-02/,
    );
    expect(await fieldsOf(report({ from: '2027-01-01', to: '2026-12-01', groupBy: 'day' }))).toEqual(['to']);
    expect(await messageOf(report({ from: '2026-01-01', to: '2027-02-06', groupBy: 'day' }))).toMatch(
      /a report covers at most 400 days; 2026-01-01 to 2027-02-06 is 401: split it/,
    );
    await expect(report({ from: '2026-01-01', to: '2027-02-05', groupBy: 'day' })).resolves.toBeDefined();
  });
});
