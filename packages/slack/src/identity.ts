import type { webApi } from '@slack/bolt';
import { setBounded } from '@tokenwise/core';
import type { ApiUser } from '@tokenwise/api';
import { findUserAccess, findUserByEmail, listOrgUsersWithRole, type Db } from '@tokenwise/db';

/** How long a resolved link is trusted: a changed email or role in Slack or Tokenwise shows within this. */
export const identityTtlMsDefault = 5 * 60_000;
/** An unknown member is asked again sooner, so a user an admin just added is linked quickly. */
export const unknownTtlMsDefault = 30_000;
/** About this many members cached (setBounded keeps up to an eighth more); the oldest go first. */
export const identityCacheEntriesMax = 10_000;
/** The admins named in the "whom to ask" message. */
const adminsNamedMax = 3;

export type SlackIdentity =
  | { kind: 'linked'; user: ApiUser; email: string; displayName: string }
  | { kind: 'unknown'; reason: 'no_email' | 'not_in_org' | 'not_a_person'; message: string };

export interface IdentityResolver {
  /** The org user linked to this Slack member, or why there is none (with a message to show them). */
  resolve(slackUserId: string): Promise<SlackIdentity>;
  /** Drops a member's cached link (e.g. after a role change the bot itself made). */
  forget(slackUserId: string): void;
}

interface Entry {
  identity: SlackIdentity;
  expiresAtMs: number;
}

/** Whom an unknown member should ask: the org's admins by name and email, or "an admin" when it has none. */
async function whomToAsk(db: Db, orgId: string): Promise<string> {
  const admins = await listOrgUsersWithRole(db, { orgId, role: 'admin', limit: adminsNamedMax });
  if (admins.length === 0) return 'an administrator of Tokenwise';
  return admins.map((admin) => `${admin.displayName} (${admin.email})`).join(', ');
}

async function unknownMember(
  db: Db,
  orgId: string,
  reason: 'no_email' | 'not_in_org' | 'not_a_person',
  email: string | undefined,
): Promise<SlackIdentity> {
  const ask = await whomToAsk(db, orgId);
  const message =
    reason === 'not_a_person'
      ? 'Tokenwise serves people; bots and deactivated accounts have no wallet.'
      : reason === 'no_email'
        ? `Your Slack profile shows no email, so Tokenwise cannot tell who you are. Ask ${ask} to add you to Tokenwise with the email of your Slack account.`
        : `No Tokenwise user has the email ${email ?? ''} of your Slack account. Ask ${ask} to add you to Tokenwise with that email.`;
  return { kind: 'unknown', reason, message };
}

/** The member's profile; undefined when the workspace has no such member. */
async function memberOf(client: webApi.WebClient, slackUserId: string) {
  try {
    return (await client.users.info({ user: slackUserId })).user;
  } catch (error) {
    if ((error as { data?: { error?: string } }).data?.error === 'user_not_found') return undefined;
    throw error;
  }
}

/**
 * Links Slack members to the users of ONE org by verified email (`users.info`, scope
 * `users:read.email`): a user of another org with the same email is never matched. Links are
 * cached for `ttlMs`, unknown members for `unknownTtlMs`; roles and team are reread from the users
 * table on every resolve.
 */
export function createIdentityResolver(deps: {
  db: Db;
  client: webApi.WebClient;
  orgId: string;
  ttlMs?: number;
  unknownTtlMs?: number;
  now?: () => number;
}): IdentityResolver {
  const cache = new Map<string, Entry>();
  const now = deps.now ?? Date.now;
  const ttlMs = deps.ttlMs ?? identityTtlMsDefault;
  const unknownTtlMs = deps.unknownTtlMs ?? unknownTtlMsDefault;

  async function lookUp(slackUserId: string): Promise<SlackIdentity> {
    const member = await memberOf(deps.client, slackUserId);
    if (member === undefined || member.deleted === true || member.is_bot === true)
      return unknownMember(deps.db, deps.orgId, 'not_a_person', undefined);
    const email = member.profile?.email;
    if (email === undefined || email.length === 0) return unknownMember(deps.db, deps.orgId, 'no_email', undefined);
    const user = await findUserByEmail(deps.db, { orgId: deps.orgId, email });
    if (user === undefined) return unknownMember(deps.db, deps.orgId, 'not_in_org', email);
    const access = await findUserAccess(deps.db, { userId: user.id, orgId: deps.orgId });
    if (access === undefined) return unknownMember(deps.db, deps.orgId, 'not_in_org', email);
    return { kind: 'linked', user: access, email: user.email, displayName: user.displayName };
  }

  /** The link (cached) from Slack to the users table; roles are not taken from it. */
  async function linkOf(slackUserId: string): Promise<SlackIdentity> {
    const cached = cache.get(slackUserId);
    if (cached !== undefined && cached.expiresAtMs > now()) return cached.identity;
    const identity = await lookUp(slackUserId);
    setBounded(
      cache,
      slackUserId,
      { identity, expiresAtMs: now() + (identity.kind === 'linked' ? ttlMs : unknownTtlMs) },
      identityCacheEntriesMax,
    );
    return identity;
  }

  return {
    async resolve(slackUserId) {
      const link = await linkOf(slackUserId);
      if (link.kind === 'unknown') return link;
      // Roles and team as the users table has them NOW, like the API's key path: a demoted admin
      // loses admin rights in Slack at once, not when the cached link expires.
      const access = await findUserAccess(deps.db, { userId: link.user.userId, orgId: deps.orgId });
      if (access === undefined) {
        cache.delete(slackUserId);
        return unknownMember(deps.db, deps.orgId, 'not_in_org', link.email);
      }
      return { ...link, user: access };
    },
    forget(slackUserId) {
      cache.delete(slackUserId);
    },
  };
}
