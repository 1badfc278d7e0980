import type { webApi } from '@slack/bolt';

/** How long a found DM channel is trusted before Slack is asked again. */
export const recipientTtlMsDefault = 10 * 60_000;
/** At most this many recipients cached; the oldest entry goes first. */
export const recipientCacheEntriesMax = 10_000;

/**
 * Finds the DM channel of an org user in Slack by their email (`users.lookupByEmail`, scope
 * `users:read.email`, then `conversations.open`, scope `im:write`). A person missing from the
 * workspace makes the call throw Slack's `users_not_found`, which the caller records.
 */
export interface RecipientDirectory {
  dmChannelOf(email: string): Promise<{ slackUserId: string; channel: string }>;
}

/** A directory over the Web API, cached for `ttlMs` (only successes are cached). */
export function createRecipientDirectory(deps: {
  client: webApi.WebClient;
  ttlMs?: number;
  now?: () => number;
}): RecipientDirectory {
  const cache = new Map<string, { slackUserId: string; channel: string; expiresAtMs: number }>();
  const ttlMs = deps.ttlMs ?? recipientTtlMsDefault;
  const now = deps.now ?? Date.now;
  return {
    async dmChannelOf(email) {
      const key = email.toLowerCase();
      const cached = cache.get(key);
      if (cached !== undefined && cached.expiresAtMs > now()) return cached;
      const found = await deps.client.users.lookupByEmail({ email });
      const slackUserId = found.user?.id;
      if (slackUserId === undefined || found.user?.deleted === true || found.user?.is_bot === true)
        throw Object.assign(new Error('users_not_found'), {
          code: 'slack_webapi_platform_error',
          data: { ok: false, error: 'users_not_found' },
        });
      const opened = await deps.client.conversations.open({ users: slackUserId });
      const channel = opened.channel?.id;
      if (channel === undefined) throw new Error('conversations.open returned no channel');
      const entry = { slackUserId, channel, expiresAtMs: now() + ttlMs };
      cache.delete(key);
      cache.set(key, entry);
      if (cache.size > recipientCacheEntriesMax) cache.delete(cache.keys().next().value as string);
      return entry;
    },
  };
}
