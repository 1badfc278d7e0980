import { parseWith, slugSchema } from '@tokenwise/core';
import { and, asc, eq, gt, inArray, sql } from 'drizzle-orm';
import { z } from 'zod';
import type { Db } from '../client';
import { roles, teams, users, type Role } from '../schema/index';
import { writeAudit } from './audit';

const teamColumns = { id: teams.id, orgId: teams.orgId, slug: teams.slug, name: teams.name };
export type Team = { id: string; orgId: string; slug: string; name: string };
const userColumns = {
  id: users.id,
  orgId: users.orgId,
  teamId: users.teamId,
  email: users.email,
  displayName: users.displayName,
  roles: users.roles,
};
export type User = {
  id: string;
  orgId: string;
  teamId: string | null;
  email: string;
  displayName: string;
  roles: Role[];
};
/** A user with the time they were created, as admins list them. */
export type UserRecord = User & { createdAt: Date };
const userRecordColumns = { ...userColumns, createdAt: users.createdAt };
/** A team with the time it was created, as admins list them. */
export type TeamRecord = Team & { createdAt: Date };
/** Who a user is to the API: ids and the roles the users table gives them now. */
export type UserAccess = { userId: string; orgId: string; teamId: string | null; roles: Role[] };

export const createTeamInput = z.object({ orgId: z.uuid(), slug: slugSchema, name: z.string().trim().min(1).max(120) });
export const createUserInput = z.object({
  orgId: z.uuid(),
  teamId: z.uuid().nullable().default(null),
  email: z.email().max(254),
  displayName: z.string().trim().min(1).max(120),
  roles: z.array(z.enum(roles)).min(1).max(roles.length).default(['employee']),
});

/** Creates a team and its audit row in one transaction. */
export async function createTeam(
  db: Db,
  params: { actor: string; input: z.input<typeof createTeamInput> },
): Promise<Team> {
  const input = parseWith(createTeamInput, params.input, 'team');
  return db.transaction(async (tx) => {
    const [team] = await tx.insert(teams).values(input).returning(teamColumns);
    if (team === undefined) throw new Error('insert into teams returned no row');
    await writeAudit(tx, {
      orgId: team.orgId,
      actor: params.actor,
      action: 'team.create',
      entityType: 'team',
      entityId: team.id,
      before: null,
      after: team,
    });
    return team;
  });
}

/** Creates a user and its audit row in one transaction. */
export async function createUser(
  db: Db,
  params: { actor: string; input: z.input<typeof createUserInput> },
): Promise<User> {
  const input = parseWith(createUserInput, params.input, 'user');
  return db.transaction(async (tx) => {
    const [user] = await tx
      .insert(users)
      .values({ ...input, roles: [...new Set(input.roles)] })
      .returning(userColumns);
    if (user === undefined) throw new Error('insert into users returned no row');
    await writeAudit(tx, {
      orgId: user.orgId,
      actor: params.actor,
      action: 'user.create',
      entityType: 'user',
      entityId: user.id,
      before: null,
      after: user,
    });
    return user;
  });
}

export async function findUserByEmail(db: Db, params: { orgId: string; email: string }): Promise<User | undefined> {
  const [user] = await db
    .select(userColumns)
    .from(users)
    .where(and(eq(users.orgId, params.orgId), sql`lower(${users.email}) = lower(${params.email})`))
    .limit(1);
  return user;
}

export async function findTeamBySlug(db: Db, params: { orgId: string; slug: string }): Promise<Team | undefined> {
  const [team] = await db
    .select(teamColumns)
    .from(teams)
    .where(and(eq(teams.orgId, params.orgId), eq(teams.slug, params.slug)))
    .limit(1);
  return team;
}

/** The team, when it belongs to the org; undefined otherwise (other orgs' teams do not exist to the caller). */
export async function findTeamInOrg(db: Db, params: { teamId: string; orgId: string }): Promise<Team | undefined> {
  const [team] = await db
    .select(teamColumns)
    .from(teams)
    .where(and(eq(teams.id, params.teamId), eq(teams.orgId, params.orgId)))
    .limit(1);
  return team;
}

/** The org's teams by slug, at most `limit`. */
export async function listOrgTeams(db: Db, params: { orgId: string; limit: number }): Promise<TeamRecord[]> {
  return db
    .select({ ...teamColumns, createdAt: teams.createdAt })
    .from(teams)
    .where(eq(teams.orgId, params.orgId))
    .orderBy(asc(teams.slug))
    .limit(params.limit);
}

/** One page of the org's users by id, after `afterId` (exclusive). */
export async function pageOrgUsers(
  db: Db,
  params: { orgId: string; afterId?: string; limit: number },
): Promise<UserRecord[]> {
  return db
    .select(userRecordColumns)
    .from(users)
    .where(and(eq(users.orgId, params.orgId), params.afterId === undefined ? undefined : gt(users.id, params.afterId)))
    .orderBy(asc(users.id))
    .limit(params.limit);
}

/** The user's org, team and roles as the users table has them now, when the user is in the org. */
export async function findUserAccess(
  db: Db,
  params: { userId: string; orgId: string },
): Promise<UserAccess | undefined> {
  const [row] = await db
    .select({ userId: users.id, orgId: users.orgId, teamId: users.teamId, roles: users.roles })
    .from(users)
    .where(and(eq(users.id, params.userId), eq(users.orgId, params.orgId)))
    .limit(1);
  return row;
}

/**
 * Replaces a user's roles (deduplicated by the caller), audited as `user.set_roles`, with the row
 * locked while it changes; undefined when the org has no such user (then nothing changes).
 */
export function setUserRoles(
  db: Db,
  params: { orgId: string; userId: string; roles: Role[]; actor: string },
): Promise<UserRecord | undefined> {
  return changeUser(db, params, 'user.set_roles', 'roles', params.roles);
}

/**
 * Moves a user to a team (the caller checked it is the org's) or out of every team (null), audited
 * as `user.set_team`; undefined when the org has no such user (then nothing changes).
 */
export function setUserTeam(
  db: Db,
  params: { orgId: string; userId: string; teamId: string | null; actor: string },
): Promise<UserRecord | undefined> {
  return changeUser(db, params, 'user.set_team', 'teamId', params.teamId);
}

/** Sets one field of the org's user with its row locked, and audits the field's before and after. */
async function changeUser<Field extends 'roles' | 'teamId'>(
  db: Db,
  params: { orgId: string; userId: string; actor: string },
  action: string,
  field: Field,
  value: UserRecord[Field],
): Promise<UserRecord | undefined> {
  return db.transaction(async (tx) => {
    const before = await lockUserInOrg(tx, params);
    if (before === undefined) return undefined;
    const [after] = await tx
      .update(users)
      .set({ [field]: value })
      .where(eq(users.id, before.id))
      .returning(userRecordColumns);
    if (after === undefined) throw new Error('update of users returned no row');
    await writeAudit(tx, {
      orgId: params.orgId,
      actor: params.actor,
      action,
      entityType: 'user',
      entityId: after.id,
      before: { [field]: before[field] },
      after: { [field]: after[field] },
    });
    return after;
  });
}

/** The user of the org, locked FOR UPDATE until the transaction ends. */
async function lockUserInOrg(tx: Db, params: { orgId: string; userId: string }): Promise<UserRecord | undefined> {
  const [row] = await tx
    .select(userRecordColumns)
    .from(users)
    .where(and(eq(users.id, params.userId), eq(users.orgId, params.orgId)))
    .for('update')
    .limit(1);
  return row;
}

/** The org's users holding `role`, by display name, at most `limit` (e.g. the admins to ask for access). */
export async function listOrgUsersWithRole(
  db: Db,
  params: { orgId: string; role: Role; limit: number },
): Promise<User[]> {
  return db
    .select(userColumns)
    .from(users)
    .where(and(eq(users.orgId, params.orgId), sql`${params.role} = any(${users.roles})`))
    .orderBy(asc(users.displayName), asc(users.id))
    .limit(params.limit);
}

/** Display names of the org's users among `userIds` (others' ids are not looked up). */
export async function findUserNames(
  db: Db,
  params: { orgId: string; userIds: readonly string[] },
): Promise<{ id: string; displayName: string }[]> {
  if (params.userIds.length === 0) return [];
  return db
    .select({ id: users.id, displayName: users.displayName })
    .from(users)
    .where(and(eq(users.orgId, params.orgId), inArray(users.id, [...params.userIds])));
}
