import { ForbiddenError, NotFoundError } from '@tokenwise/core';
import { findTeamInOrg, type Db, type Team, type UsageScope } from '@tokenwise/db';
import type { Role } from '@tokenwise/db/schema';
import type { ApiUser } from './context';

export const hasRole = (user: ApiUser, role: Role) => user.roles.includes(role);

/** Which usage rows a user may read: an admin the org's, a lead their team's, anyone else their own. */
export function usageVisibleTo(user: ApiUser): UsageScope {
  if (hasRole(user, 'admin')) return { orgId: user.orgId };
  if (hasRole(user, 'lead') && user.teamId !== null) return { orgId: user.orgId, teamId: user.teamId };
  return { orgId: user.orgId, userId: user.userId };
}

/** The team, when it belongs to the user's org; NOT_FOUND otherwise (other orgs' teams do not exist here). */
export async function teamInOrg(db: Db, params: { teamId: string; orgId: string }): Promise<Team> {
  const team = await findTeamInOrg(db, params);
  if (team === undefined) throw new NotFoundError(`No team ${params.teamId} in your org.`);
  return team;
}

/** An admin may manage any team of the org; a lead only their own team. */
export function assertManagesTeam(user: ApiUser, teamId: string): void {
  if (hasRole(user, 'admin')) return;
  if (hasRole(user, 'lead') && user.teamId === teamId) return;
  throw new ForbiddenError(`Only the lead of team ${teamId} or an admin may do this.`);
}
