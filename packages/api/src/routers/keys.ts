import { ForbiddenError, NotFoundError } from '@tokenwise/core';
import { findApiKeyOwner } from '@tokenwise/db';
import {
  allowedModelsMax,
  createApiKey,
  createDerivedApiKey,
  createSelfServiceApiKey,
  keyNameLengthMax,
  keyScopes,
  listApiKeys,
  modelNameLengthMax,
  requestLimitMax,
  revokeApiKey,
  revokeApiKeyCascade,
  selfServiceKeyDaysMax,
} from '@tokenwise/control';
import { z } from 'zod';
import type { ApiUser, Context } from '../context';
import { hasRole } from '../scope';
import { actorOf, authedProcedure, router } from '../trpc';

const expiresInDaysMax = 3_650;
const dayMs = 86_400_000;
const keyId = z.string().regex(/^[a-z2-7]{12}$/, 'must be a key id: 12 characters of a-z and 2-7');
/** Left out: the creating key's limit (for your own key) or unlimited (an admin's key for someone else). null: unlimited. */
const requestLimit = z.number().int().min(1).max(requestLimitMax).nullable().optional();

/**
 * Strict: a field this procedure does not know (`systemOwner`, `orgId`, `createdByKeyId`, ...) is
 * refused by name rather than silently dropped, so nobody believes they set it.
 */
const createInput = z.strictObject({
  name: z.string().trim().min(1).max(keyNameLengthMax),
  userId: z.uuid().optional(),
  scopes: z.array(z.enum(keyScopes)).min(1).max(keyScopes.length).default(['inference']),
  /** Left out: the creating key's list (your own key) or every model (an admin's key for someone else). null: every model. */
  allowedModels: z
    .array(z.string().trim().min(1).max(modelNameLengthMax))
    .min(1)
    .max(allowedModelsMax)
    .nullable()
    .optional(),
  rpmLimit: requestLimit,
  tpmLimit: requestLimit,
  /** Left out: the creating key's expiry (your own key) or never (an admin's key for someone else). null: never. */
  expiresInDays: z.number().int().min(1).max(expiresInDaysMax).nullable().optional(),
});

/** An employee may act on their own keys only; an admin on any key of the org. */
function assertMayManageKeysOf(user: ApiUser, ownerId: string | null): void {
  if (hasRole(user, 'admin') || ownerId === user.userId) return;
  throw new ForbiddenError('You may only manage your own API keys; an admin manages the others.');
}

/**
 * A key for yourself derives from the key you call with and never gets more than it has; an
 * admin's key for someone else is bounded by nothing but the input (as with the CLI), and records
 * which key created it.
 */
async function createKey(ctx: Context & { user: ApiUser }, input: z.output<typeof createInput>) {
  const ownerId = input.userId ?? ctx.user.userId;
  const expiresAt =
    input.expiresInDays === undefined || input.expiresInDays === null
      ? input.expiresInDays
      : new Date(Date.now() + input.expiresInDays * dayMs);
  const common = {
    pepper: ctx.keyPepper,
    orgId: ctx.user.orgId,
    name: input.name,
    scopes: input.scopes,
    actor: actorOf(ctx.user),
  };
  if (ownerId !== ctx.user.userId) {
    assertMayManageKeysOf(ctx.user, ownerId);
    const limits = {
      allowedModels: input.allowedModels ?? null,
      rpmLimit: input.rpmLimit ?? null,
      tpmLimit: input.tpmLimit ?? null,
      expiresAt: expiresAt ?? null,
    };
    return createApiKey(ctx.db, { ...common, ...limits, userId: ownerId, createdByKeyId: ctx.keyId });
  }
  if (ctx.keyId === null && ctx.selfServiceKeys) return createSelfServiceKey(ctx, input);
  if (ctx.keyId === null) {
    throw new ForbiddenError(
      'A key you create for yourself derives from the API key you call with: call with `Authorization: Bearer tw_...`, or ask an admin for one (`tokenwise keys create`).',
    );
  }
  const asked = { allowedModels: input.allowedModels, rpmLimit: input.rpmLimit, tpmLimit: input.tpmLimit, expiresAt };
  return createDerivedApiKey(ctx.db, {
    ...common,
    ...asked,
    creatorKeyId: ctx.keyId,
    userId: ownerId,
    expiryField: 'expiresInDays',
  });
}

/** Your own key without a key to derive it from (signed in through Slack): inference only, bounded expiry. */
function createSelfServiceKey(ctx: Context & { user: ApiUser }, input: z.output<typeof createInput>) {
  const asked = [
    input.scopes.some((scope) => scope !== 'inference') ? 'scopes other than inference' : undefined,
    input.allowedModels !== undefined ? 'allowedModels' : undefined,
    input.rpmLimit !== undefined || input.tpmLimit !== undefined ? 'rpm/tpm limits' : undefined,
    input.expiresInDays === null ? 'a key that never expires' : undefined,
  ].filter((what) => what !== undefined);
  if (asked.length > 0)
    throw new ForbiddenError(
      `A key created without an API key (e.g. from Slack) is an inference key for every model expiring within ${selfServiceKeyDaysMax} days; ${asked.join(', ')} need a key created with \`Authorization: Bearer tw_...\` or by an admin.`,
    );
  const days = input.expiresInDays ?? selfServiceKeyDaysMax;
  if (days > selfServiceKeyDaysMax)
    throw new ForbiddenError(`A key created without an API key expires within ${selfServiceKeyDaysMax} days.`);
  return createSelfServiceApiKey(ctx.db, {
    pepper: ctx.keyPepper,
    orgId: ctx.user.orgId,
    userId: ctx.user.userId,
    name: input.name,
    expiresAt: new Date(Date.now() + days * dayMs),
    actor: actorOf(ctx.user),
  });
}

export const keysRouter = router({
  /**
   * Creates a key; its secret is in this response and never again. Your own key is bounded by the
   * key you call with (scopes, models, rpm/tpm, expiry); an admin may create one for another user of the org.
   */
  create: authedProcedure.input(createInput).mutation(async ({ ctx, input }) => {
    const { key, secret } = await createKey(ctx, input);
    return { key: keyView(key), secret };
  }),

  /** The caller's keys; an admin may list the whole org's or one user's. Never secrets or hashes. */
  list: authedProcedure
    .input(z.object({ userId: z.uuid().optional(), allOfOrg: z.boolean().default(false) }).default({ allOfOrg: false }))
    .query(async ({ ctx, input }) => {
      if (input.allOfOrg) assertMayManageKeysOf(ctx.user, null);
      const userId = input.allOfOrg ? undefined : (input.userId ?? ctx.user.userId);
      if (userId !== undefined) assertMayManageKeysOf(ctx.user, userId);
      const keys = await listApiKeys(
        ctx.db,
        userId === undefined ? { orgId: ctx.user.orgId } : { orgId: ctx.user.orgId, userId },
      );
      return keys.map(keyView);
    }),

  /**
   * Revokes a key: every gateway refuses it within a second. Revoking twice changes nothing. Keys it
   * created keep working (so rotating by creating a new key and revoking the old one works) unless
   * `cascade` is set: then every key created from it, and from those, is revoked in the same transaction.
   */
  revoke: authedProcedure
    .input(z.object({ keyId, cascade: z.boolean().default(false) }))
    .mutation(async ({ ctx, input }) => {
      const owner = await findApiKeyOwner(ctx.db, { keyId: input.keyId, orgId: ctx.user.orgId });
      if (owner === undefined) throw new NotFoundError(`No API key ${input.keyId} in your org.`);
      assertMayManageKeysOf(ctx.user, owner.userId);
      const actor = actorOf(ctx.user);
      if (!input.cascade)
        return { ...keyView(await revokeApiKey(ctx.db, { keyId: input.keyId, actor })), derivedKeysRevoked: 0 };
      const { key, derivedRevoked } = await revokeApiKeyCascade(ctx.db, { keyId: input.keyId, actor });
      return { ...keyView(key), derivedKeysRevoked: derivedRevoked.length };
    }),
});

/** A key's public fields, named; times as ISO strings. */
function keyView(key: Awaited<ReturnType<typeof listApiKeys>>[number]) {
  const iso = (date: Date | null) => (date === null ? null : new Date(date).toISOString());
  return {
    id: key.id,
    userId: key.userId,
    name: key.name,
    scopes: key.scopes,
    allowedModels: key.allowedModels,
    rpmLimit: key.rpmLimit,
    tpmLimit: key.tpmLimit,
    expiresAt: iso(key.expiresAt),
    revokedAt: iso(key.revokedAt),
    replacedBy: key.replacedBy,
    createdByKeyId: key.createdByKeyId,
    createdAt: iso(key.createdAt) as string,
  };
}
