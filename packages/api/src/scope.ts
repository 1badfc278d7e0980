import { ForbiddenError, NotFoundError } from '@tokenwise/core';
import type { Db } from '@tokenwise/db';
import { teams, usageRecords, type Role } from '@tokenwise/db/schema';
import { and, eq, type SQL } from 'drizzle-orm';
import type { ApiUser } from './context';

export const hasRole = (user: ApiUser, role: Role) => user.roles.includes(role);

/** Which usage rows a user may read: an admin the org's, a lead their team's, anyone else their own. */
export function usageVisibleTo(user: ApiUser): SQL {
  const inOrg = eq(usageRecords.orgId, user.orgId);
  if (hasRole(user, 'admin')) return inOrg;
  if (hasRole(user, 'lead') && user.teamId !== null) return and(inOrg, eq(usageRecords.teamId, user.teamId)) as SQL;
  return and(inOrg, eq(usageRecords.userId, user.userId)) as SQL;
}

/** The team, when it belongs to the user's org; NOT_FOUND otherwise (other orgs' teams do not exist here). */
export async function teamInOrg(db: Db, params: { teamId: string; orgId: string }) {
  const [team] = await db
    .select({ id: teams.id, orgId: teams.orgId, slug: teams.slug, name: teams.name })
    .from(teams)
    .where(and(eq(teams.id, params.teamId), eq(teams.orgId, params.orgId)))
    .limit(1);
  if (team === undefined) throw new NotFoundError(`No team ${params.teamId} in your org.`);
  return team;
}

/** An admin may manage any team of the org; a lead only their own team. */
export function assertManagesTeam(user: ApiUser, teamId: string): void {
  if (hasRole(user, 'admin')) return;
  if (hasRole(user, 'lead') && user.teamId === teamId) return;
  throw new ForbiddenError(`Only the lead of team ${teamId} or an admin may do this.`);
}
