import { NotFoundError, ValidationError } from '@tokenwise/core';
import { findUserByEmail } from '@tokenwise/db';
import {
  createApiKey,
  keyScopes,
  listApiKeys,
  revokeApiKey,
  revokeApiKeyCascade,
  rotateApiKey,
  type ApiKeyInfo,
  type KeyScope,
} from '@tokenwise/control';
import type { OptionSpec } from '../../command-spec';
import { UsageError } from '../../usage-error';
import type { AdminCommandSpecs } from './admin-command';
import { orgOf, orgOption } from './lookups';
import { list, optionalCount, optionalText, text } from './option-values';

const keyIdOption: OptionSpec = { name: 'id', value: 'id', required: true, description: 'the key id' };

function keyStatus(key: ApiKeyInfo, now: Date): string {
  const at = (date: Date | string) => new Date(date).toISOString();
  if (key.revokedAt !== null) return `revoked ${at(key.revokedAt)}`;
  if (key.expiresAt !== null && new Date(key.expiresAt) <= now) return `expired ${at(key.expiresAt)}`;
  if (key.replacedBy !== null) return `rotated to ${key.replacedBy}, works until ${at(key.expiresAt ?? now)}`;
  return key.expiresAt === null ? 'active' : `active until ${at(key.expiresAt)}`;
}

function describeKey(key: ApiKeyInfo, owner: string): string {
  const limits = [
    key.rpmLimit === null ? undefined : `rpm ${key.rpmLimit}`,
    key.tpmLimit === null ? undefined : `tpm ${key.tpmLimit}`,
  ].filter((item) => item !== undefined);
  return `${key.id}  "${key.name}"  ${owner}  scopes ${key.scopes.join(',')}  models ${key.allowedModels?.join(',') ?? 'all'}  ${limits.length === 0 ? 'no rate limits' : limits.join(' ')}`;
}

function shownOnce(secret: string): string {
  return `\n\n  ${secret}\n\nStore it now: this is the only time the key is shown. It cannot be recovered, only rotated or revoked.`;
}

/** `keys ...`: API keys, created, listed, revoked and rotated. */
export const keyCommands: AdminCommandSpecs = {
  'keys create': {
    summary: 'create an API key for a user or a system account; prints the key once: it is never shown again',
    options: [
      orgOption,
      { name: 'user', value: 'email', description: 'the user who pays (or --system)' },
      { name: 'system', value: 'owner', description: 'a system account pays instead, e.g. judge (or --user)' },
      { name: 'name', value: 'name', description: "the key's name" },
      { name: 'scopes', value: 'list', description: `comma-separated, from ${keyScopes.join(', ')}` },
      { name: 'models', value: 'list', description: 'comma-separated: the only models it may call (default all)' },
      { name: 'rpm', value: 'count', description: 'requests per minute at most' },
      { name: 'tpm', value: 'count', description: 'tokens per minute at most' },
      { name: 'expires-in-days', value: 'days', description: 'it stops working after this many days' },
    ],
    async run({ database, keyPepper }, options, actor) {
      const org = await orgOf(database.db, options);
      const email = optionalText(options, 'user');
      const systemOwner = optionalText(options, 'system');
      if ((email === undefined) === (systemOwner === undefined))
        throw new UsageError(
          'Give --user EMAIL (an employee pays) or --system OWNER (a system account pays, e.g. judge), not both.',
        );
      const user = email === undefined ? undefined : await findUserByEmail(database.db, { orgId: org.id, email });
      if (email !== undefined && user === undefined) throw new NotFoundError(`No user ${email} in org ${org.slug}.`);
      const scopes = list(options, 'scopes');
      const unknown = (scopes ?? []).filter((scope) => !(keyScopes as readonly string[]).includes(scope));
      if (unknown.length > 0)
        throw new ValidationError(`Unknown scope(s) ${unknown.join(', ')}: use ${keyScopes.join(', ')}.`);
      const days = optionalCount(options, 'expires-in-days', 3_650);
      const { key, secret } = await createApiKey(database.db, {
        pepper: keyPepper,
        orgId: org.id,
        userId: user?.id ?? null,
        systemOwner: systemOwner ?? null,
        name: optionalText(options, 'name') ?? (email === undefined ? `system ${systemOwner}` : `${email} key`),
        scopes: scopes as KeyScope[] | undefined,
        allowedModels: list(options, 'models') ?? null,
        rpmLimit: optionalCount(options, 'rpm', 1_000_000_000) ?? null,
        tpmLimit: optionalCount(options, 'tpm', 1_000_000_000) ?? null,
        expiresAt: days === undefined ? null : new Date(Date.now() + days * 86_400_000),
        actor,
      });
      const owner = email === undefined ? `system account ${systemOwner} (${org.slug})` : `${email} (${org.slug})`;
      return {
        text: `Created API key ${describeKey(key, owner)}, ${keyStatus(key, new Date())}:${shownOnce(secret)}`,
        data: { key, secret },
      };
    },
  },

  'keys list': {
    summary: "the org's API keys, or a user's: ids, owners, scopes, limits, status; never secrets",
    options: [orgOption, { name: 'user', value: 'email', description: "only this user's keys" }],
    async run({ database }, options) {
      const org = await orgOf(database.db, options);
      const email = optionalText(options, 'user');
      const user = email === undefined ? undefined : await findUserByEmail(database.db, { orgId: org.id, email });
      if (email !== undefined && user === undefined) throw new NotFoundError(`No user ${email} in org ${org.slug}.`);
      const keys = await listApiKeys(
        database.db,
        user === undefined ? { orgId: org.id } : { orgId: org.id, userId: user.id },
      );
      const now = new Date();
      const owner = (key: ApiKeyInfo) =>
        key.userId === null
          ? `system ${key.systemOwner}`
          : key.userId === user?.id
            ? (email as string)
            : `user ${key.userId}`;
      const lines = keys.map((key) => `${describeKey(key, owner(key))}  ${keyStatus(key, now)}`);
      return {
        text: `API keys of ${email ?? `org ${org.slug}`}, newest first:\n  ${lines.length === 0 ? '(none)' : lines.join('\n  ')}`,
        data: keys,
      };
    },
  },

  'keys revoke': {
    summary: 'revoke a key: every gateway refuses it within a second',
    options: [
      keyIdOption,
      { name: 'cascade', description: 'also every key created from it through the API, and from those' },
    ],
    async run({ database }, options, actor) {
      const startedAt = Date.now();
      if (options.cascade === true) {
        const { key, derivedRevoked } = await revokeApiKeyCascade(database.db, { keyId: text(options, 'id'), actor });
        const derived = `${derivedRevoked.length} key${derivedRevoked.length === 1 ? '' : 's'} created from it`;
        return {
          text: `Revoked API key ${key.id} ("${key.name}") and ${derived}: every gateway refuses them within a second.`,
          data: { key, derivedRevoked },
        };
      }
      const key = await revokeApiKey(database.db, { keyId: text(options, 'id'), actor });
      const revokedAt = new Date(key.revokedAt ?? startedAt);
      if (revokedAt.getTime() < startedAt)
        return {
          text: `API key ${key.id} ("${key.name}") was already revoked at ${revokedAt.toISOString()}.`,
          data: key,
        };
      return {
        text: `Revoked API key ${key.id} ("${key.name}"): every gateway refuses it within a second.`,
        data: key,
      };
    },
  },

  'keys rotate': {
    summary: 'a new key in place of one; the old one works for the overlap',
    options: [
      keyIdOption,
      {
        name: 'overlap-seconds',
        value: 'seconds',
        description: 'how long the old key keeps working (default 3600; 0 ends it now)',
      },
    ],
    async run({ database, keyPepper }, options, actor) {
      const keyId = text(options, 'id');
      const overlapSeconds =
        optionalText(options, 'overlap-seconds') === '0'
          ? 0
          : (optionalCount(options, 'overlap-seconds', 30 * 86_400) ?? 3_600);
      const { key, secret, replaced, webhookSecret } = await rotateApiKey(database.db, {
        pepper: keyPepper,
        keyId,
        overlapSeconds,
        actor,
      });
      const until = new Date(replaced.expiresAt ?? Date.now()).toISOString();
      const webhook =
        webhookSecret === undefined
          ? ''
          : `\n\nIts webhook signing secret for POST /webhooks/experiments is new too (the old one signs only for ${keyId}, until ${until}):\n\n  ${webhookSecret}\n`;
      return {
        text: `Rotated API key ${keyId}: it keeps working until ${until}. Its replacement is ${key.id}:${shownOnce(secret)}${webhook}`,
        data: { key, secret, replaced, ...(webhookSecret === undefined ? {} : { webhookSecret }) },
      };
    },
  },
};
