import { and, eq } from 'drizzle-orm';
import type { Db } from '../client';
import { orgs, teams, users } from '../schema/index';

/** Kinds of account owner an org's admin may grant to. */
export type OrgOwnerType = 'user' | 'team' | 'org';

/** Whether the owner exists in the org: the org itself, or one of its teams or users. */
export async function ownerInOrg(
  db: Db,
  params: { ownerType: OrgOwnerType; ownerId: string; orgId: string },
): Promise<boolean> {
  const { ownerType, ownerId, orgId } = params;
  const found =
    ownerType === 'org'
      ? await db.select({ id: orgs.id }).from(orgs).where(eq(orgs.id, ownerId)).limit(1)
      : ownerType === 'team'
        ? await db
            .select({ id: teams.id })
            .from(teams)
            .where(and(eq(teams.id, ownerId), eq(teams.orgId, orgId)))
            .limit(1)
        : await db
            .select({ id: users.id })
            .from(users)
            .where(and(eq(users.id, ownerId), eq(users.orgId, orgId)))
            .limit(1);
  return found.length > 0 && !(ownerType === 'org' && ownerId !== orgId);
}
