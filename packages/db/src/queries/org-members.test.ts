import { describeEachBackend } from '@tokenwise/db/testing';
import { beforeAll, expect, it } from 'vitest';
import { listAuditForEntity } from './audit';
import { createOrg } from './orgs';
import { ownerInOrg } from './owner-in-org';
import { createTeam, createUser, findTeamInOrg, findUserAccess, setUserRoles, setUserTeam, type User } from './users';

const actor = 'user:admin';

describeEachBackend('org members', (database, backend) => {
  let orgId: string;
  let otherOrgId: string;
  let teamId: string;
  let otherTeamId: string;
  let member: User;
  let stranger: User;

  beforeAll(async () => {
    const db = database().db;
    orgId = (await createOrg(db, { actor, input: { slug: `members-${backend}`, name: 'Members' } })).id;
    otherOrgId = (await createOrg(db, { actor, input: { slug: `strangers-${backend}`, name: 'Strangers' } })).id;
    teamId = (await createTeam(db, { actor, input: { orgId, slug: 'red', name: 'Red' } })).id;
    otherTeamId = (await createTeam(db, { actor, input: { orgId: otherOrgId, slug: 'red', name: 'Red' } })).id;
    member = await createUser(db, { actor, input: { orgId, email: 'm@members.test', displayName: 'M' } });
    stranger = await createUser(db, {
      actor,
      input: { orgId: otherOrgId, email: 's@strangers.test', displayName: 'S' },
    });
  });

  it('changes roles and team of a member, audited with before and after', async () => {
    const db = database().db;
    expect(await setUserRoles(db, { orgId, userId: member.id, roles: ['employee', 'lead'], actor })).toMatchObject({
      id: member.id,
      roles: ['employee', 'lead'],
      createdAt: expect.any(Date),
    });
    expect(await setUserTeam(db, { orgId, userId: member.id, teamId, actor })).toMatchObject({ teamId });
    expect(await findUserAccess(db, { userId: member.id, orgId })).toEqual({
      userId: member.id,
      orgId,
      teamId,
      roles: ['employee', 'lead'],
    });
    const audit = await listAuditForEntity(db, { entityType: 'user', entityId: member.id });
    expect(audit.map((row) => [row.action, row.before, row.after])).toEqual([
      ['user.set_team', { teamId: null }, { teamId }],
      ['user.set_roles', { roles: ['employee'] }, { roles: ['employee', 'lead'] }],
      ['user.create', null, expect.anything()],
    ]);
  });

  it("finds nothing of another org's users and changes nothing there", async () => {
    const db = database().db;
    expect(await setUserRoles(db, { orgId, userId: stranger.id, roles: ['admin'], actor })).toBeUndefined();
    expect(await setUserTeam(db, { orgId, userId: stranger.id, teamId, actor })).toBeUndefined();
    expect(await findUserAccess(db, { userId: stranger.id, orgId })).toBeUndefined();
    expect(await findUserAccess(db, { userId: stranger.id, orgId: otherOrgId })).toMatchObject({
      roles: ['employee'],
      teamId: null,
    });
    const audit = await listAuditForEntity(db, { entityType: 'user', entityId: stranger.id });
    expect(audit.map((row) => row.action)).toEqual(['user.create']);
    expect(await findTeamInOrg(db, { teamId: otherTeamId, orgId })).toBeUndefined();
    expect(await findTeamInOrg(db, { teamId, orgId })).toMatchObject({ id: teamId, slug: 'red' });
  });

  it('knows an owner only in its own org: the org itself, its teams and its users', async () => {
    const db = database().db;
    const inOrg = (ownerType: 'user' | 'team' | 'org', ownerId: string) =>
      ownerInOrg(db, { ownerType, ownerId, orgId });
    expect(await Promise.all([inOrg('org', orgId), inOrg('team', teamId), inOrg('user', member.id)])).toEqual([
      true,
      true,
      true,
    ]);
    expect(
      await Promise.all([inOrg('org', otherOrgId), inOrg('team', otherTeamId), inOrg('user', stranger.id)]),
    ).toEqual([false, false, false]);
    // An id of the wrong kind is not an owner of that kind.
    expect(await inOrg('team', member.id)).toBe(false);
  });
});
