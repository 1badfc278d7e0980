import { parseWith, slugSchema } from '@tokenwise/core';
import { and, eq, sql } from 'drizzle-orm';
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
