import { invariant } from '@tokenwise/core';
import { and, eq, type SQL } from 'drizzle-orm';
import { usageRecords } from '../schema/index';

/**
 * Which usage rows a read covers: those of the org, narrowed to a team and/or a user; or, with no
 * org, the user's own. Every field given must match.
 */
export interface UsageScope {
  orgId?: string;
  teamId?: string;
  userId?: string;
}

/** The condition that keeps usage rows to `scope`; refuses a scope that names neither an org nor a user. */
export function usageInScope(scope: UsageScope): SQL {
  invariant(scope.orgId !== undefined || scope.userId !== undefined, 'a usage scope names an org or a user');
  return and(
    scope.orgId === undefined ? undefined : eq(usageRecords.orgId, scope.orgId),
    scope.teamId === undefined ? undefined : eq(usageRecords.teamId, scope.teamId),
    scope.userId === undefined ? undefined : eq(usageRecords.userId, scope.userId),
  ) as SQL;
}
