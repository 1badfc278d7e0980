import { describeEachBackend } from '@tokenwise/db/testing';
import { beforeAll, expect, it } from 'vitest';
import { listAuditForEntity } from './audit';
import {
  listAllowanceSchedules,
  pageAllowanceSchedules,
  pageUserIdsWithRole,
  setAllowanceSchedule,
} from './allowance-schedules';
import { createOrg } from './orgs';
import { createUser } from './users';

const actor = 'user:admin';

describeEachBackend('allowance schedule queries', (db, backend) => {
  let orgId: string;
  beforeAll(async () => {
    orgId = (await createOrg(db().db, { actor, input: { slug: `allow-${backend}`, name: 'Allowances' } })).id;
  });

  it('sets, replaces and removes a schedule, each change with an audit row', async () => {
    expect(
      await setAllowanceSchedule(db().db, { orgId, role: 'employee', currency: 'innovation', amount: 100n, actor }),
    ).toMatchObject({ amount: 100n, updatedBy: actor });
    await setAllowanceSchedule(db().db, { orgId, role: 'employee', currency: 'innovation', amount: 150n, actor });
    expect(await listAllowanceSchedules(db().db, { orgId })).toMatchObject([
      { role: 'employee', currency: 'innovation', amount: 150n },
    ]);
    expect(
      await setAllowanceSchedule(db().db, { orgId, role: 'employee', currency: 'innovation', amount: 0n, actor }),
    ).toBeUndefined();
    expect(await listAllowanceSchedules(db().db, { orgId })).toEqual([]);
    const audit = await listAuditForEntity(db().db, {
      entityType: 'allowance_schedule',
      entityId: `${orgId}:employee:innovation`,
    });
    expect(audit.map((row) => [row.action, row.before, row.after])).toEqual([
      ['allowance_schedule.remove', { amount: 150n }, null],
      ['allowance_schedule.set', { amount: 100n }, { amount: 150n }],
      ['allowance_schedule.set', null, { amount: 100n }],
    ]);
  });

  it('refuses a negative amount', async () => {
    await expect(
      setAllowanceSchedule(db().db, { orgId, role: 'employee', currency: 'innovation', amount: -1n, actor }),
    ).rejects.toMatchObject({ code: 'INVALID_AMOUNT' });
  });

  it('pages schedules across orgs and users holding a role', async () => {
    await setAllowanceSchedule(db().db, { orgId, role: 'lead', currency: 'priority', amount: 20n, actor });
    await setAllowanceSchedule(db().db, { orgId, role: 'lead', currency: 'innovation', amount: 30n, actor });
    const first = await pageAllowanceSchedules(db().db, { limit: 1 });
    const rest = await pageAllowanceSchedules(db().db, { after: first[0], limit: 100 });
    expect([...first, ...rest].filter((row) => row.orgId === orgId).map((row) => row.currency)).toEqual([
      'innovation',
      'priority',
    ]);

    const lead = await createUser(db().db, {
      actor,
      input: { orgId, email: `lead-${backend}@x.test`, displayName: 'Lead', roles: ['employee', 'lead'] },
    });
    await createUser(db().db, { actor, input: { orgId, email: `emp-${backend}@x.test`, displayName: 'Emp' } });
    expect(await pageUserIdsWithRole(db().db, { orgId, role: 'lead', limit: 10 })).toEqual([lead.id]);
    expect(await pageUserIdsWithRole(db().db, { orgId, role: 'lead', afterId: lead.id, limit: 10 })).toEqual([]);
    expect(await pageUserIdsWithRole(db().db, { orgId, role: 'employee', limit: 10 })).toHaveLength(2);
  });
});
