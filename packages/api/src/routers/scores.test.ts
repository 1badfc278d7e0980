import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { insertUsage, openApiFixture, type ApiFixture } from '../test-fixtures';

let f: ApiFixture;
let scored: string;
beforeAll(async () => {
  f = await openApiFixture();
  // The heavy user spends 10x the tokens for the same scores: they must rank below, never above.
  scored = await insertUsage(f.db, { user: f.users.employee, promptTokens: 100, completionTokens: 900, score: 0.8 });
  await insertUsage(f.db, { user: f.users.employee, promptTokens: 100, completionTokens: 900, score: 0.6 });
  await insertUsage(f.db, { user: f.users.colleague, promptTokens: 1_000, completionTokens: 9_000, score: 0.8 });
  await insertUsage(f.db, { user: f.users.colleague, promptTokens: 1_000, completionTokens: 9_000, score: 0.6 });
  await insertUsage(f.db, { user: f.users.colleague, promptTokens: 1_000, completionTokens: 9_000 });
  await insertUsage(f.db, { user: f.users.opsEmployee, promptTokens: 10, completionTokens: 90, score: 1 });
});
afterAll(async () => {
  await f?.close();
});

describe('scores', () => {
  it('byRequest shows the settlement to whoever may see the request', async () => {
    const result = await (await f.as(f.users.employee)).scores.byRequest({ requestId: scored });
    expect(result.settlement).toMatchObject({ score: 0.8, refund: 100n, refundCurrency: 'innovation' });
    expect((await (await f.as(f.users.lead)).scores.byRequest({ requestId: scored })).settlement?.score).toBe(0.8);
    await expect((await f.as(f.users.colleague)).scores.byRequest({ requestId: scored })).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
    await expect((await f.as(f.users.esg)).scores.byRequest({ requestId: scored })).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
  });

  it('the leaderboard ranks value per token spent, not consumption', async () => {
    const board = await (await f.as(f.users.lead)).scores.leaderboard({});
    expect(board.map((row) => row.userId)).toEqual([f.users.employee.id, f.users.colleague.id]);
    expect(board[0]).toMatchObject({ rank: 1, scoredRequests: 2, tokens: 2_000 });
    expect(board[0]?.valuePer1kTokens).toBeCloseTo(0.7);
    expect(board[1]?.valuePer1kTokens).toBeCloseTo(0.07);
    const org = await (await f.as(f.users.admin)).scores.leaderboard({});
    expect(org[0]?.userId).toBe(f.users.opsEmployee.id);
  });

  it('byTeam: the lead of the team and admins; the lead of another team and everyone else are refused', async () => {
    const team = await (await f.as(f.users.lead)).scores.byTeam({ teamId: f.teams.eng.id });
    expect(team.users.find((row) => row.userId === f.users.colleague.id)).toMatchObject({
      requests: 3,
      scoredRequests: 2,
      costMinorUnits: 3_000n,
    });
    expect((await (await f.as(f.users.admin)).scores.byTeam({ teamId: f.teams.eng.id })).users).toHaveLength(2);
    await expect((await f.as(f.users.lead)).scores.byTeam({ teamId: f.teams.ops.id })).rejects.toMatchObject({
      code: 'FORBIDDEN',
    });
    await expect((await f.as(f.users.lead)).scores.leaderboard({ teamId: f.teams.ops.id })).rejects.toMatchObject({
      code: 'FORBIDDEN',
    });
    for (const user of [f.users.employee, f.users.esg]) {
      await expect((await f.as(user)).scores.byTeam({ teamId: f.teams.eng.id })).rejects.toMatchObject({
        code: 'FORBIDDEN',
      });
      await expect((await f.as(user)).scores.leaderboard({})).rejects.toMatchObject({ code: 'FORBIDDEN' });
    }
    await expect((await f.as(f.otherAdmin)).scores.byTeam({ teamId: f.teams.eng.id })).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
  });
});

describe('scores.byUser', () => {
  it('self, the lead of the user’s team and admins; refused to colleagues, esg and other leads', async () => {
    expect(await (await f.as(f.users.employee)).scores.byUser({ userId: f.users.employee.id })).toMatchObject({
      requests: 2,
      scoredRequests: 2,
      tokens: 2_000,
    });
    expect((await (await f.as(f.users.lead)).scores.byUser({ userId: f.users.employee.id })).requests).toBe(2);
    expect((await (await f.as(f.users.admin)).scores.byUser({ userId: f.users.opsEmployee.id })).meanScore).toBe(1);
    expect(await (await f.as(f.users.esg)).scores.byUser({ userId: f.users.esg.id })).toMatchObject({
      requests: 0,
      meanScore: null,
    });
    await expect((await f.as(f.users.colleague)).scores.byUser({ userId: f.users.employee.id })).rejects.toMatchObject({
      code: 'FORBIDDEN',
    });
    await expect((await f.as(f.users.esg)).scores.byUser({ userId: f.users.employee.id })).rejects.toMatchObject({
      code: 'FORBIDDEN',
    });
    await expect((await f.as(f.users.lead)).scores.byUser({ userId: f.users.opsEmployee.id })).rejects.toMatchObject({
      code: 'FORBIDDEN',
    });
    await expect((await f.as(f.otherAdmin)).scores.byUser({ userId: f.users.employee.id })).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
  });
});
