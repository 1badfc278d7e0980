import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { insertUsage, openApiFixture, type ApiFixture } from '../test-fixtures';

let f: ApiFixture;
const ids: Record<string, string> = {};
beforeAll(async () => {
  f = await openApiFixture();
  const at = (minute: number) => new Date(Date.UTC(2026, 10, 2, 10, minute));
  for (let index = 0; index < 5; index++)
    ids[`employee${index}`] = await insertUsage(f.db, {
      user: f.users.employee,
      createdAt: at(index),
      model: index % 2 === 0 ? 'llama-8b' : 'qwen-7b',
      ...(index === 4
        ? { sessionId: 'sess-1', experiment: { experimentKey: 'checkout-button', variantKey: 'blue' } }
        : {}),
    });
  ids.colleague = await insertUsage(f.db, { user: f.users.colleague, createdAt: at(10) });
  ids.ops = await insertUsage(f.db, { user: f.users.opsEmployee, createdAt: at(11) });
});
afterAll(async () => {
  await f?.close();
});

describe('usage', () => {
  it('an employee sees only their own usage, paginated by cursor, newest first', async () => {
    const employee = await f.as(f.users.employee);
    const first = await employee.usage.list({ limit: 2 });
    expect(first.items.map((row) => row.requestId)).toEqual([ids.employee4, ids.employee3]);
    const second = await employee.usage.list({ limit: 2, cursor: first.nextCursor ?? undefined });
    expect(second.items.map((row) => row.requestId)).toEqual([ids.employee2, ids.employee1]);
    const third = await employee.usage.list({ limit: 2, cursor: second.nextCursor ?? undefined });
    expect(third.items.map((row) => row.requestId)).toEqual([ids.employee0]);
    expect(third.nextCursor).toBeNull();
    // The request's session and experiment tags show with it.
    expect(first.items[0]).toMatchObject({ sessionId: 'sess-1', experimentKey: 'checkout-button', variantKey: 'blue' });
    expect(first.items[1]).toMatchObject({ sessionId: null, experimentKey: null, variantKey: null });
  });

  it('filters by model and time window', async () => {
    const employee = await f.as(f.users.employee);
    const qwen = await employee.usage.list({ model: 'qwen-7b' });
    expect(qwen.items.map((row) => row.requestId)).toEqual([ids.employee3, ids.employee1]);
    const window = await employee.usage.list({ from: '2026-11-02T10:01:00Z', to: '2026-11-02T10:03:00Z' });
    expect(window.items.map((row) => row.requestId)).toEqual([ids.employee2, ids.employee1]);
  });

  it('a lead sees the team, an admin the org; esg and employees only their own', async () => {
    const lead = (await (await f.as(f.users.lead)).usage.list({ limit: 100 })).items.map((row) => row.requestId);
    expect(lead).toContain(ids.colleague);
    expect(lead).not.toContain(ids.ops);
    const admin = (await (await f.as(f.users.admin)).usage.list({ limit: 100 })).items.map((row) => row.requestId);
    expect(admin).toEqual(expect.arrayContaining([ids.colleague, ids.ops, ids.employee0]));
    expect((await (await f.as(f.users.esg)).usage.list({})).items).toEqual([]);
    expect((await (await f.as(f.otherAdmin)).usage.list({})).items).toEqual([]);
  });

  it('byId: own, team for the lead, org for the admin; NOT_FOUND for anyone else', async () => {
    expect((await (await f.as(f.users.employee)).usage.byId({ requestId: ids.employee0 as string })).cost).toBe(1_000n);
    await expect(
      (await f.as(f.users.employee)).usage.byId({ requestId: ids.colleague as string }),
    ).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect((await f.as(f.users.esg)).usage.byId({ requestId: ids.colleague as string })).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
    expect((await (await f.as(f.users.lead)).usage.byId({ requestId: ids.colleague as string })).userId).toBe(
      f.users.colleague.id,
    );
    await expect((await f.as(f.users.lead)).usage.byId({ requestId: ids.ops as string })).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
    expect((await (await f.as(f.users.admin)).usage.byId({ requestId: ids.ops as string })).requestId).toBe(ids.ops);
    await expect((await f.as(f.otherAdmin)).usage.byId({ requestId: ids.ops as string })).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
  });

  it('bounds: page size 1..100, a forged cursor and a bad time are BAD_REQUEST naming the field', async () => {
    const employee = await f.as(f.users.employee);
    await expect(employee.usage.list({ limit: 0 })).rejects.toMatchObject({ code: 'BAD_REQUEST' });
    await expect(employee.usage.list({ limit: 101 })).rejects.toMatchObject({ code: 'BAD_REQUEST' });
    await expect(employee.usage.list({ cursor: 'garbage' })).rejects.toMatchObject({ code: 'BAD_REQUEST' });
    await expect(employee.usage.list({ from: 'yesterday' })).rejects.toMatchObject({ code: 'BAD_REQUEST' });
  });
});
