import { listAuditForEntity } from '@tokenwise/db';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openApiFixture, type ApiFixture } from '../test-fixtures';

let f: ApiFixture;
beforeAll(async () => {
  f = await openApiFixture();
});
afterAll(async () => {
  await f?.close();
});

const policy = { refunds: [{ minScore: 0.8, shareBps: 2_000 }], minConfidence: 0.6 };

describe('policies', () => {
  it('the lead of the team publishes versions; current and history follow, audited', async () => {
    const lead = await f.as(f.users.lead);
    await expect(lead.policies.current({ teamId: f.teams.eng.id })).rejects.toMatchObject({ code: 'NOT_FOUND' });
    const first = await lead.policies.set({ teamId: f.teams.eng.id, policy });
    const second = await (
      await f.as(f.users.admin)
    ).policies.set({
      teamId: f.teams.eng.id,
      policy: { ...policy, reward: { minScore: 0.9, amount: 5n, currency: 'priority' } },
    });
    expect([first.version, second.version]).toEqual([1, 2]);
    expect(second.warnings.join(' ')).toContain('maxRewardPerRequest');
    const current = await (await f.as(f.users.employee)).policies.current({ teamId: f.teams.eng.id });
    expect(current.policy.reward?.amount).toBe(5n);
    const history = await (await f.as(f.users.esg)).policies.history({ teamId: f.teams.eng.id, limit: 10 });
    expect(history.map((item) => item.version)).toEqual([2, 1]);
    const audit = await listAuditForEntity(f.db, { entityType: 'settlement_policy', entityId: f.teams.eng.id });
    expect(audit).toHaveLength(2);
  });

  it('refuses employees, esg, the lead of another team, and readers outside the team', async () => {
    for (const user of [f.users.employee, f.users.esg]) {
      await expect((await f.as(user)).policies.set({ teamId: f.teams.eng.id, policy })).rejects.toMatchObject({
        code: 'FORBIDDEN',
      });
    }
    await expect((await f.as(f.users.lead)).policies.set({ teamId: f.teams.ops.id, policy })).rejects.toMatchObject({
      code: 'FORBIDDEN',
    });
    await expect((await f.as(f.users.opsEmployee)).policies.current({ teamId: f.teams.eng.id })).rejects.toMatchObject({
      code: 'FORBIDDEN',
    });
    await expect((await f.as(f.users.opsEmployee)).policies.history({ teamId: f.teams.eng.id })).rejects.toMatchObject({
      code: 'FORBIDDEN',
    });
    await expect((await f.as(f.otherAdmin)).policies.set({ teamId: f.teams.eng.id, policy })).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
  });

  it('an invalid policy is BAD_REQUEST naming the field', async () => {
    const error = await (
      await f.as(f.users.lead)
    ).policies
      .set({ teamId: f.teams.eng.id, policy: { refunds: [{ minScore: 2, shareBps: 1 }] } })
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'BAD_REQUEST', message: expect.stringContaining('refunds.0.minScore') });
    const share = await (
      await f.as(f.users.lead)
    ).policies
      .set({ teamId: f.teams.eng.id, policy: { ...policy, maxRewardShareBps: 10_001 } })
      .catch((e: unknown) => e);
    expect(share).toMatchObject({ code: 'BAD_REQUEST', message: expect.stringContaining('maxRewardShareBps') });
  });

  it('shows the reward share bound in every output: the one set, or the 10 % default for policies that never set it', async () => {
    const lead = await f.as(f.users.lead);
    const set = await lead.policies.set({
      teamId: f.teams.eng.id,
      policy: { ...policy, reward: { minScore: 0.9, amount: 5n }, maxRewardShareBps: 2_500 },
    });
    expect(set.policy.maxRewardShareBps).toBe(2_500);
    expect((await lead.policies.current({ teamId: f.teams.eng.id })).policy.maxRewardShareBps).toBe(2_500);
    const history = await lead.policies.history({ teamId: f.teams.eng.id, limit: 10 });
    expect(history[0]?.policy.maxRewardShareBps).toBe(2_500);
    expect(history.at(-1)?.policy.maxRewardShareBps).toBe(1_000);
  });
});
