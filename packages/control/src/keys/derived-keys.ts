import { ConflictError, ForbiddenError, parseWith, ValidationError } from '@tokenwise/core';
import { writeAudit, type Db } from '@tokenwise/db';
import { apiKeys, auditLog } from '@tokenwise/db/schema';
import { and, count, eq, gt, isNull, or, sql } from 'drizzle-orm';
import { z } from 'zod';
import {
  allowedModelsInput,
  infoColumns,
  insertKey,
  keyNameInput,
  keyScopesInput,
  lockKey,
  requestLimitInput,
  revokeLocked,
} from './api-keys';
import { deriveKeyFields } from './key-derivation';
import { activeKeysPerUserMax, cascadeAuditBatchMax, cascadeRoundsMax } from './limits';
import type { ApiKeyInfo, KeyScope } from './types';

/** Left out (`undefined`): inherit the creating key's bound. See DerivedKeyRequest. */
const derivedKeyInput = z.object({
  name: keyNameInput,
  scopes: keyScopesInput,
  allowedModels: allowedModelsInput.nullable().optional(),
  rpmLimit: requestLimitInput.nullable().optional(),
  tpmLimit: requestLimitInput.nullable().optional(),
  expiresAt: z.date().nullable().optional(),
});

export interface CreateDerivedApiKeyParams {
  pepper: Buffer;
  /** The key the caller authenticated with: the new key never gets more than it has. */
  creatorKeyId: string;
  /** Who the caller is: the creating key must be theirs. */
  orgId: string;
  userId: string;
  name: string;
  /** Default: inference only. */
  scopes?: KeyScope[];
  /** Left out: the creator's. null: every model (refused under a creator limited to some). */
  allowedModels?: string[] | null;
  /** Left out: the creator's. null: unlimited (refused under a limited creator). */
  rpmLimit?: number | null;
  tpmLimit?: number | null;
  /** Left out: the creator's. null: never (refused under a creator that expires). */
  expiresAt?: Date | null;
  /** How the caller's input names the expiry, for refusals (the API takes `expiresInDays`). */
  expiryField?: string;
  actor: string;
  clock?: () => Date;
}

/**
 * Creates a key derived from the caller's own key: same owner, scopes a subset, models a subset,
 * rpm/tpm and expiry no more than the creator's, and `createdByKeyId` recording the creator. The
 * creator is reread and share-locked here, never trusted from a cache, so a key revoked a moment
 * ago creates nothing and a cascading revocation of it waits for (and then sees) this key.
 */
export async function createDerivedApiKey(
  db: Db,
  params: CreateDerivedApiKeyParams,
): Promise<{ key: ApiKeyInfo; secret: string }> {
  const { pepper, creatorKeyId, orgId, userId, expiryField, actor, clock, ...fields } = params;
  const request = parseWith(derivedKeyInput, fields, 'API key');
  const now = (clock ?? (() => new Date()))();
  if (request.expiresAt instanceof Date && request.expiresAt.getTime() <= now.getTime()) {
    throw new ValidationError(
      `Invalid API key: ${expiryField ?? 'expiresAt'} (${request.expiresAt.toISOString()}) must be in the future.`,
    );
  }
  return db.transaction(async (tx) => {
    const creator = await lockKey(tx, creatorKeyId, 'share');
    assertMayDerive(creator, { orgId, userId, now });
    await assertUnderActiveKeyLimit(tx, { userId, now });
    const bounded = deriveKeyFields(creator, request, { now, expiryField });
    const created = await insertKey(tx, pepper, {
      orgId,
      userId,
      systemOwner: null,
      name: request.name,
      ...bounded,
      createdByKeyId: creator.id,
    });
    await writeAudit(tx, {
      orgId,
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

/** The longest a self-service key may live: one made without a creating key to bound it. */
export const selfServiceKeyDaysMax = 90;

/**
 * Creates an inference-only key for a person who signed in through a channel the server trusts
 * instead of an API key (the Slack bot, which linked them by verified email). No creating key
 * bounds it, so it is bounded here: scope inference, every model, expiry within
 * selfServiceKeyDaysMax, and the same limit on working keys per person as derived keys.
 */
export async function createSelfServiceApiKey(
  db: Db,
  params: {
    pepper: Buffer;
    orgId: string;
    userId: string;
    name: string;
    expiresAt: Date;
    actor: string;
    clock?: () => Date;
  },
): Promise<{ key: ApiKeyInfo; secret: string }> {
  const now = (params.clock ?? (() => new Date()))();
  const name = parseWith(keyNameInput, params.name, 'API key name');
  const latest = now.getTime() + selfServiceKeyDaysMax * 86_400_000;
  if (params.expiresAt.getTime() <= now.getTime() || params.expiresAt.getTime() > latest)
    throw new ValidationError(`A self-service key expires within ${selfServiceKeyDaysMax} days.`, {
      issues: ['expiresAt: out of range'],
    });
  return db.transaction(async (tx) => {
    await assertUnderActiveKeyLimit(tx, { userId: params.userId, now });
    const created = await insertKey(tx, params.pepper, {
      orgId: params.orgId,
      userId: params.userId,
      systemOwner: null,
      name,
      scopes: ['inference'],
      allowedModels: null,
      rpmLimit: null,
      tpmLimit: null,
      expiresAt: params.expiresAt,
      createdByKeyId: null,
    });
    await writeAudit(tx, {
      orgId: params.orgId,
      actor: params.actor,
      action: 'api_key.create',
      entityType: 'api_key',
      entityId: created.key.id,
      before: null,
      after: created.key,
    });
    return created;
  });
}

function assertMayDerive(creator: ApiKeyInfo, caller: { orgId: string; userId: string; now: Date }): void {
  if (creator.orgId !== caller.orgId || creator.userId !== caller.userId) {
    throw new ForbiddenError(
      `API key ${creator.id} is not yours: a key you create for yourself derives from the key you call with.`,
    );
  }
  if (creator.revokedAt !== null)
    throw new ForbiddenError(
      `API key ${creator.id} was revoked at ${creator.revokedAt.toISOString()}: a revoked key creates no keys; call with a working key.`,
    );
  if (creator.expiresAt !== null && creator.expiresAt.getTime() <= caller.now.getTime()) {
    throw new ForbiddenError(
      `API key ${creator.id} expired at ${creator.expiresAt.toISOString()}: an expired key creates no keys; call with a working key.`,
    );
  }
}

/** Bounds how many keys one person can mint for themselves, and with it the size of a cascade. */
async function assertUnderActiveKeyLimit(db: Db, params: { userId: string; now: Date }): Promise<void> {
  const [row] = await db
    .select({ active: count() })
    .from(apiKeys)
    .where(
      and(
        eq(apiKeys.userId, params.userId),
        isNull(apiKeys.revokedAt),
        or(isNull(apiKeys.expiresAt), gt(apiKeys.expiresAt, params.now)),
      ),
    );
  const active = row?.active ?? 0;
  if (active >= activeKeysPerUserMax) {
    throw new ConflictError(
      `You hold ${active} working API keys, and you may create keys for yourself only while you hold fewer than ${activeKeysPerUserMax}: revoke keys you no longer use, then try again.`,
    );
  }
}

/**
 * Revokes a key and, transitively, every key created from it (through createdByKeyId), in one
 * transaction with an audit row per key. The key itself may already be revoked: cascading later
 * still reaches what it created. Rounds repeat until one finds nothing new, so a key derived by a
 * creation that committed while this ran is revoked too.
 */
export async function revokeApiKeyCascade(
  db: Db,
  params: { keyId: string; actor: string; clock?: () => Date },
): Promise<{ key: ApiKeyInfo; derivedRevoked: ApiKeyInfo[] }> {
  const now = (params.clock ?? (() => new Date()))();
  return db.transaction(async (tx) => {
    const key = await revokeLocked(tx, await lockKey(tx, params.keyId), { now, actor: params.actor });
    const derivedRevoked: ApiKeyInfo[] = [];
    for (let round = 0; ; round += 1) {
      const revoked = await revokeDerived(tx, key, now);
      if (revoked.length === 0) break;
      if (round + 1 >= cascadeRoundsMax)
        throw new ConflictError(
          `Keys kept being created from API key ${key.id} while it was being revoked: revoke it with cascade again.`,
        );
      await auditDerivedRevocations(tx, key, revoked, params.actor);
      derivedRevoked.push(...revoked);
    }
    await writeAudit(tx, {
      orgId: key.orgId,
      actor: params.actor,
      action: 'api_key.revoke_cascade',
      entityType: 'api_key',
      entityId: key.id,
      before: null,
      after: { revokedAt: key.revokedAt, derivedRevokedCount: derivedRevoked.length },
    });
    return { key, derivedRevoked };
  });
}

/** One statement: every key below `root` in its org that still works is revoked now. */
async function revokeDerived(tx: Db, root: ApiKeyInfo, now: Date): Promise<ApiKeyInfo[]> {
  const derived = sql`(
    with recursive derived(id) as (
      select id from api_keys where created_by_key_id = ${root.id} and org_id = ${root.orgId}
      union
      select child.id from api_keys child join derived on child.created_by_key_id = derived.id where child.org_id = ${root.orgId}
    )
    select id from derived
  )`;
  return tx
    .update(apiKeys)
    .set({ revokedAt: now })
    .where(and(sql`${apiKeys.id} in ${derived}`, isNull(apiKeys.revokedAt)))
    .returning(infoColumns);
}

async function auditDerivedRevocations(
  tx: Db,
  root: ApiKeyInfo,
  revoked: readonly ApiKeyInfo[],
  actor: string,
): Promise<void> {
  for (let start = 0; start < revoked.length; start += cascadeAuditBatchMax) {
    const rows = revoked.slice(start, start + cascadeAuditBatchMax).map((after) => ({
      orgId: after.orgId,
      actor,
      action: 'api_key.revoke',
      entityType: 'api_key',
      entityId: after.id,
      before: { ...after, revokedAt: null },
      after: { ...after, revokedWith: root.id },
    }));
    await tx.insert(auditLog).values(rows);
  }
}
