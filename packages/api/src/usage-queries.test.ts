import { describeEachBackend } from '@tokenwise/db/testing';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { insertUsage, seedApiFixture } from './test-fixtures';

describeEachBackend('usage and score queries through the routers', (database) => {
  let f: Awaited<ReturnType<typeof seedApiFixture>>;
  const ids: string[] = [];
  beforeAll(async () => {
    f = await seedApiFixture(database());
    // Equal timestamps: the cursor must break ties on request id, never skip or repeat a row.
    const at = new Date(Date.UTC(2026, 10, 3, 12));
    for (let index = 0; index < 7; index++)
      ids.push(
        await insertUsage(f.db, {
          user: f.users.employee,
          createdAt: at,
          requestId: `tie-${database().backend}-${index}`,
          score: index / 10,
        }),
      );
  });
  afterAll(async () => {
    await f?.ledger.close();
  });

  it('pages through rows sharing a timestamp without skipping or repeating', async () => {
    const employee = await f.as(f.users.employee);
    const seen: string[] = [];
    let cursor: string | undefined;
    for (let page = 0; page < 10; page++) {
      const result = await employee.usage.list({ limit: 3, cursor });
      seen.push(...result.items.map((row) => row.requestId));
      if (result.nextCursor === null) break;
      cursor = result.nextCursor;
    }
    expect(seen).toEqual([...ids].reverse());
  });

  it('aggregates exact bigint totals and value per 1k tokens', async () => {
    const team = await (await f.as(f.users.lead)).scores.byTeam({ teamId: f.teams.eng.id });
    const row = team.users.find((item) => item.userId === f.users.employee.id);
    expect(row).toMatchObject({
      requests: 7,
      scoredRequests: 7,
      costMinorUnits: 7_000n,
      co2eMicrograms: 10_500_000n,
      tokens: 7_000,
    });
    expect(row?.valuePer1kTokens).toBeCloseTo(0.3);
  });
});
