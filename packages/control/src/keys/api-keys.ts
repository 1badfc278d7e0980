import { ConflictError, invariant, NotFoundError, parseWith, ValidationError } from '@tokenwise/core';
import { findExperimentsServiceKey, insertExperimentsServiceKey, writeAudit, type Db } from '@tokenwise/db';
import { apiKeys, orgs, users } from '@tokenwise/db/schema';
import { and, desc, eq, inArray } from 'drizzle-orm';
import { z } from 'zod';
import { experimentsScope, experimentsSystemOwner, experimentsWebhookSecret } from '../experiments/webhook-secret';
import { formatKey, keyIdPattern, newKeyId, newKeySecret, secretHmac } from './key-format';
import {
  allowedModelsMax,
  keyNameLengthMax,
  listKeysMax,
  modelNameLengthMax,
  overlapSecondsMax,
  requestLimitMax,
} from './limits';
import { keyScopes, type ApiKeyInfo, type KeyScope } from './types';

/** Named columns: no query here ever returns `secretHmac` to a caller. */
export const infoColumns = {
  id: apiKeys.id,
  orgId: apiKeys.orgId,
  userId: apiKeys.userId,
  systemOwner: apiKeys.systemOwner,
  name: apiKeys.name,
  scopes: apiKeys.scopes,
  allowedModels: apiKeys.allowedModels,
  rpmLimit: apiKeys.rpmLimit,
  tpmLimit: apiKeys.tpmLimit,
  expiresAt: apiKeys.expiresAt,
  revokedAt: apiKeys.revokedAt,
  replacedBy: apiKeys.replacedBy,
  createdByKeyId: apiKeys.createdByKeyId,
  createdAt: apiKeys.createdAt,
};

export const keyIdInput = z.string().regex(keyIdPattern, 'must be a key id: 12 characters of a-z and 2-7');
export const keyNameInput = z.string().trim().min(1).max(keyNameLengthMax);
export const keyScopesInput = z
  .array(z.enum(keyScopes))
  .min(1)
  .max(keyScopes.length * 4)
  .default(['inference'])
  .transform((scopes) => [...new Set(scopes)]);
export const allowedModelsInput = z
  .array(z.string().trim().min(1).max(modelNameLengthMax))
  .min(1)
  .max(allowedModelsMax)
  .transform((models) => [...new Set(models)]);
export const requestLimitInput = z.number().int().positive().max(requestLimitMax);
const requestLimit = requestLimitInput.nullable().default(null);

export const createApiKeyInput = z
  .object({
    orgId: z.uuid(),
    userId: z.uuid().nullable().default(null),
    systemOwner: z
      .string()
      .regex(/^[a-z][a-z0-9_-]{0,63}$/, 'must be a lowercase system account owner id such as "judge"')
      .nullable()
      .default(null),
    name: keyNameInput,
    scopes: keyScopesInput,
    allowedModels: allowedModelsInput.nullable().default(null),
    rpmLimit: requestLimit,
    tpmLimit: requestLimit,
    expiresAt: z.date().nullable().default(null),
    createdByKeyId: keyIdInput.nullable().default(null),
  })
  .refine((input) => (input.userId === null) !== (input.systemOwner === null), {
    message: 'give exactly one of userId (an employee) or systemOwner (a system account)',
    path: ['userId'],
  })
  .refine((input) => input.systemOwner !== experimentsSystemOwner, {
    message: `system account "${experimentsSystemOwner}" owns service keys only: create one with admin.createServiceKey or \`tokenwise experiments service-key create\``,
    path: ['systemOwner'],
  });

export interface CreateApiKeyParams {
  pepper: Buffer;
  orgId: string;
  /** The employee billed; give this or `systemOwner`. */
  userId?: string | null;
  systemOwner?: string | null;
  name: string;
  /** Default: inference only. */
  scopes?: KeyScope[];
  /** null or omitted: every model. */
  allowedModels?: string[] | null;
  rpmLimit?: number | null;
  tpmLimit?: number | null;
  expiresAt?: Date | null;
  /** The key an admin called the API with; recorded, not a bound (see createDerivedApiKey for that). Null from the CLI. */
  createdByKeyId?: string | null;
  actor: string;
  clock?: () => Date;
  /** Only for keys the server mints for its own calls (createRuntimeKeys); never from a client's input. */
  mintedFor?: 'judge' | 'plugin_dry_run' | null;
}

const overlapInput = z.number().int().min(0).max(overlapSecondsMax);

/** Creates a key and its audit row; the secret is returned once and never stored. */
export async function createApiKey(db: Db, params: CreateApiKeyParams): Promise<{ key: ApiKeyInfo; secret: string }> {
  const { pepper, actor, clock, mintedFor, ...fields } = params;
  const input = parseWith(createApiKeyInput, fields, 'API key');
  const now = (clock ?? (() => new Date()))();
  if (input.expiresAt !== null && input.expiresAt.getTime() <= now.getTime()) {
    throw new ValidationError(`Invalid API key: expiresAt (${input.expiresAt.toISOString()}) must be in the future.`);
  }
  return db.transaction(async (tx) => {
    await assertOwnerExists(tx, input);
    const created = await insertKey(tx, pepper, input, mintedFor ?? null);
    await writeAudit(tx, {
      orgId: created.key.orgId,
      actor,
      action: 'api_key.create',
      entityType: 'api_key',
      entityId: created.key.id,
      before: null,
      after: created.key,
    });
    return created;
  });
}

async function assertOwnerExists(db: Db, input: { orgId: string; userId: string | null }): Promise<void> {
  const [org] = await db.select({ id: orgs.id }).from(orgs).where(eq(orgs.id, input.orgId)).limit(1);
  if (org === undefined) throw new NotFoundError(`No org ${input.orgId}.`);
  if (input.userId === null) return;
  const [user] = await db
    .select({ id: users.id })
    .from(users)
    .where(and(eq(users.id, input.userId), eq(users.orgId, input.orgId)))
    .limit(1);
  if (user === undefined)
    throw new NotFoundError(`No user ${input.userId} in org ${input.orgId}: a key can only bill a member of its org.`);
}

type KeyFields = Omit<ApiKeyInfo, 'id' | 'revokedAt' | 'replacedBy' | 'createdAt'>;

/** Inserts with a fresh id; retries the (60-bit, practically impossible) id collision a few times. */
export async function insertKey(
  db: Db,
  pepper: Buffer,
  fields: KeyFields,
  mintedFor: 'judge' | 'plugin_dry_run' | null = null,
): Promise<{ key: ApiKeyInfo; secret: string }> {
  for (let attempt = 0; attempt < 3; attempt += 1) {
    const id = newKeyId();
    const secret = newKeySecret();
    const [key] = await db
      .insert(apiKeys)
      .values({ ...fields, id, secretHmac: secretHmac(pepper, secret), mintedFor })
      .onConflictDoNothing()
      .returning(infoColumns);
    if (key !== undefined) return { key, secret: formatKey(id, secret) };
  }
  throw new Error('three random API key ids collided: the random source is broken');
}

/** The key row, locked until the transaction ends: `update` to change it, `share` to derive from it. */
export async function lockKey(db: Db, keyId: string, strength: 'update' | 'share' = 'update'): Promise<ApiKeyInfo> {
  const id = parseWith(keyIdInput, keyId, 'key id');
  const [key] = await db.select(infoColumns).from(apiKeys).where(eq(apiKeys.id, id)).for(strength).limit(1);
  if (key === undefined) throw new NotFoundError(`No API key ${id}.`);
  return key;
}

/** Revokes a key (every replica refuses it within a second); revoking a revoked key changes nothing. */
export async function revokeApiKey(
  db: Db,
  params: { keyId: string; actor: string; clock?: () => Date },
): Promise<ApiKeyInfo> {
  const now = (params.clock ?? (() => new Date()))();
  return db.transaction(async (tx) => revokeLocked(tx, await lockKey(tx, params.keyId), { now, actor: params.actor }));
}

/** Revokes a key its caller has locked, with its audit row; an already revoked key is returned as it is. */
export async function revokeLocked(
  tx: Db,
  before: ApiKeyInfo,
  params: { now: Date; actor: string },
): Promise<ApiKeyInfo> {
  if (before.revokedAt !== null) return before;
  const [after] = await tx
    .update(apiKeys)
    .set({ revokedAt: params.now })
    .where(eq(apiKeys.id, before.id))
    .returning(infoColumns);
  invariant(after !== undefined, 'the locked key row must update');
  await writeAudit(tx, {
    orgId: after.orgId,
    actor: params.actor,
    action: 'api_key.revoke',
    entityType: 'api_key',
    entityId: after.id,
    before,
    after,
  });
  return after;
}

/**
 * Replaces a key with a new one of the same owner, scopes, models and limits. The old key keeps
 * working for `overlapSeconds` (never past its own expiry) so clients can switch without downtime.
 * A key that expires keeps its lifetime: the new one expires as long after now as the old did after
 * its creation, so rotation never lifts an expiry policy.
 *
 * A service key (experiments scope) stays one: the replacement gets the old key's service-key row
 * (the same submitter) in the same transaction, and a new webhook signing secret, because that
 * secret is derived from the key id. It is returned here once, like the key; the old secret
 * signs only for the old key, until its overlap ends. A key with the experiments scope but no
 * service-key row is refused rather than copied into another such key.
 */
export async function rotateApiKey(
  db: Db,
  params: { pepper: Buffer; keyId: string; overlapSeconds: number; actor: string; clock?: () => Date },
): Promise<{
  key: ApiKeyInfo;
  secret: string;
  /** The old key as it now is: replaced, ending at its new expiry. */ replaced: ApiKeyInfo;
  /** Only for a service key: the replacement's webhook signing secret, shown once. */
  webhookSecret?: string;
}> {
  const overlapSeconds = parseWith(overlapInput, params.overlapSeconds, 'overlapSeconds');
  const now = (params.clock ?? (() => new Date()))();
  return db.transaction(async (tx) => {
    const old = await lockKey(tx, params.keyId);
    if (old.revokedAt !== null)
      throw new ConflictError(`API key ${old.id} is revoked: create a new key instead of rotating it.`);
    if (old.replacedBy !== null)
      throw new ConflictError(
        `API key ${old.id} was already rotated; rotate its replacement ${old.replacedBy} instead.`,
      );
    if (old.expiresAt !== null && old.expiresAt.getTime() <= now.getTime())
      throw new ConflictError(`API key ${old.id} expired at ${old.expiresAt.toISOString()}: create a new key instead.`);
    const service = old.scopes.includes(experimentsScope)
      ? await findExperimentsServiceKey(tx, { keyId: old.id })
      : undefined;
    if (old.scopes.includes(experimentsScope) && (service === undefined || service.orgId !== old.orgId))
      throw new ConflictError(
        `API key ${old.id} has the experiments scope but is not a service key of its org: revoke it and have an admin create one with admin.createServiceKey.`,
      );
    const lifetimeMs = old.expiresAt === null ? null : old.expiresAt.getTime() - old.createdAt.getTime();
    const created = await insertKey(tx, params.pepper, {
      orgId: old.orgId,
      userId: old.userId,
      systemOwner: old.systemOwner,
      name: old.name,
      scopes: old.scopes,
      allowedModels: old.allowedModels,
      rpmLimit: old.rpmLimit,
      tpmLimit: old.tpmLimit,
      expiresAt: lifetimeMs === null ? null : new Date(now.getTime() + lifetimeMs),
      // The replacement takes the old key's place in the chain, so revoking its creator with cascade still reaches it.
      createdByKeyId: old.createdByKeyId,
    });
    if (service !== undefined)
      await insertExperimentsServiceKey(tx, {
        keyId: created.key.id,
        orgId: service.orgId,
        createdByUserId: service.createdByUserId,
      });
    const overlapEnd = new Date(now.getTime() + overlapSeconds * 1000);
    const expiresAt = old.expiresAt !== null && old.expiresAt < overlapEnd ? old.expiresAt : overlapEnd;
    const [after] = await tx
      .update(apiKeys)
      .set({ replacedBy: created.key.id, expiresAt })
      .where(eq(apiKeys.id, old.id))
      .returning(infoColumns);
    invariant(after !== undefined, 'the locked key row must update');
    const audit = { orgId: old.orgId, actor: params.actor, entityType: 'api_key' };
    await writeAudit(tx, {
      ...audit,
      action: 'api_key.create',
      entityId: created.key.id,
      before: null,
      after: { ...created.key, rotatedFrom: old.id },
    });
    await writeAudit(tx, { ...audit, action: 'api_key.rotate', entityId: old.id, before: old, after });
    if (service === undefined) return { ...created, replaced: after };
    return { ...created, replaced: after, webhookSecret: experimentsWebhookSecret(params.pepper, created.key.id) };
  });
}

/** An org's keys (optionally one user's), newest first, at most `listKeysMax`; never secrets or HMACs. */
export async function listApiKeys(
  db: Db,
  params: { orgId: string; userId?: string; limit?: number },
): Promise<ApiKeyInfo[]> {
  const orgId = parseWith(z.uuid(), params.orgId, 'orgId');
  const userId = params.userId === undefined ? undefined : parseWith(z.uuid(), params.userId, 'userId');
  const limit = Math.min(Math.max(params.limit ?? listKeysMax, 1), listKeysMax);
  return db
    .select(infoColumns)
    .from(apiKeys)
    .where(userId === undefined ? eq(apiKeys.orgId, orgId) : and(eq(apiKeys.orgId, orgId), eq(apiKeys.userId, userId)))
    .orderBy(desc(apiKeys.createdAt), desc(apiKeys.id))
    .limit(limit);
}

const authenticationColumns = {
  ...infoColumns,
  secretHmac: apiKeys.secretHmac,
  teamId: users.teamId,
  carbonAwareRouting: orgs.carbonAwareRouting,
};

/** What authentication needs about a key: its row, its HMAC, its user's current team and its org's routing setting. For the key store only. */
export async function findKeyForAuthentication(db: Db, params: { keyId: string }) {
  const [row] = await db
    .select(authenticationColumns)
    .from(apiKeys)
    .innerJoin(orgs, eq(orgs.id, apiKeys.orgId))
    .leftJoin(users, eq(users.id, apiKeys.userId))
    .where(eq(apiKeys.id, params.keyId))
    .limit(1);
  return row;
}

/** The same for several keys in one query (the key store's background refresh); ids with no row are absent. */
export async function findKeysForAuthentication(db: Db, params: { keyIds: readonly string[] }) {
  if (params.keyIds.length === 0) return [];
  return db
    .select(authenticationColumns)
    .from(apiKeys)
    .innerJoin(orgs, eq(orgs.id, apiKeys.orgId))
    .leftJoin(users, eq(users.id, apiKeys.userId))
    .where(inArray(apiKeys.id, [...params.keyIds]));
}
