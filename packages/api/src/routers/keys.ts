import { ForbiddenError, NotFoundError } from '@tokenwise/core';
import { apiKeys } from '@tokenwise/db/schema';
import { allowedModelsMax, createApiKey, keyNameLengthMax, keyScopes, listApiKeys, modelNameLengthMax, revokeApiKey } from '@tokenwise/gateway';
import { and, eq } from 'drizzle-orm';
import { z } from 'zod';
import type { ApiUser } from '../context';
import { hasRole } from '../scope';
import { actorOf, authedProcedure, router } from '../trpc';

const expiresInDaysMax = 3_650;
const keyId = z.string().regex(/^[a-z2-7]{12}$/, 'must be a key id: 12 characters of a-z and 2-7');

/** An employee may act on their own keys only; an admin on any key of the org. */
function assertMayManageKeysOf(user: ApiUser, ownerId: string | null): void {
  if (hasRole(user, 'admin') || ownerId === user.userId) return;
  throw new ForbiddenError('You may only manage your own API keys; an admin manages the others.');
}

export const keysRouter = router({
  /** Creates a key; its secret is in this response and never again. An admin may create one for another user of the org. */
  create: authedProcedure
    .input(
      z.object({
        name: z.string().trim().min(1).max(keyNameLengthMax),
        userId: z.uuid().optional(),
        scopes: z.array(z.enum(keyScopes)).min(1).max(keyScopes.length).default(['inference']),
        allowedModels: z.array(z.string().trim().min(1).max(modelNameLengthMax)).min(1).max(allowedModelsMax).nullable().default(null),
        expiresInDays: z.number().int().min(1).max(expiresInDaysMax).nullable().default(null),
      }),
    )
    .mutation(async ({ ctx, input }) => {
      const ownerId = input.userId ?? ctx.user.userId;
      assertMayManageKeysOf(ctx.user, ownerId);
      const { key, secret } = await createApiKey(ctx.db, {
        pepper: ctx.keyPepper,
        orgId: ctx.user.orgId,
        userId: ownerId,
        name: input.name,
        scopes: input.scopes,
        allowedModels: input.allowedModels,
        expiresAt: input.expiresInDays === null ? null : new Date(Date.now() + input.expiresInDays * 86_400_000),
        actor: actorOf(ctx.user),
      });
      return { key: keyView(key), secret };
    }),

  /** The caller's keys; an admin may list the whole org's or one user's. Never secrets or hashes. */
  list: authedProcedure.input(z.object({ userId: z.uuid().optional(), allOfOrg: z.boolean().default(false) }).default({ allOfOrg: false })).query(async ({ ctx, input }) => {
    if (input.allOfOrg) assertMayManageKeysOf(ctx.user, null);
    const userId = input.allOfOrg ? undefined : (input.userId ?? ctx.user.userId);
    if (userId !== undefined) assertMayManageKeysOf(ctx.user, userId);
    const keys = await listApiKeys(ctx.db, userId === undefined ? { orgId: ctx.user.orgId } : { orgId: ctx.user.orgId, userId });
    return keys.map(keyView);
  }),

  /** Revokes a key: every gateway refuses it within a second. Revoking twice changes nothing. */
  revoke: authedProcedure.input(z.object({ keyId })).mutation(async ({ ctx, input }) => {
    const [owner] = await ctx.db
      .select({ userId: apiKeys.userId })
      .from(apiKeys)
      .where(and(eq(apiKeys.id, input.keyId), eq(apiKeys.orgId, ctx.user.orgId)))
      .limit(1);
    if (owner === undefined) throw new NotFoundError(`No API key ${input.keyId} in your org.`);
    assertMayManageKeysOf(ctx.user, owner.userId);
    return keyView(await revokeApiKey(ctx.db, { keyId: input.keyId, actor: actorOf(ctx.user) }));
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
    createdAt: iso(key.createdAt) as string,
  };
}
