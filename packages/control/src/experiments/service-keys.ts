import { ForbiddenError, NotFoundError, parseWith, ValidationError } from '@tokenwise/core';
import { insertExperimentsServiceKey, writeAudit, type Db } from '@tokenwise/db';
import { users } from '@tokenwise/db/schema';
import { and, eq } from 'drizzle-orm';
import { createHmac } from 'node:crypto';
import { keyNameInput } from '../keys/api-keys';
import { insertKey } from '../keys/api-keys';
import { pepperBytesMin } from '../keys/key-format';
import type { ApiKeyInfo } from '../keys/types';

/** The only scope of a service key that an experimentation platform holds. */
export const experimentsScope = 'experiments';
/** The system account owning service keys with the experiments scope (they bill nothing: no inference). */
export const experimentsSystemOwner = 'experiments';
/** Prefix of a webhook signing secret, as Standard Webhooks writes them: `whsec_<base64 of the key bytes>`. */
export const webhookSecretPrefix = 'whsec_';

/**
 * The key bytes that sign `POST /webhooks/experiments` for a service key: HMAC-SHA-256 under the
 * server's key pepper of `experiments-webhook:<keyId>`. Derived, never stored: the same pepper gives
 * the same secret on every replica, and revoking the key refuses its webhooks too.
 */
export function experimentsWebhookKey(pepper: Buffer, keyId: string): Buffer {
  if (pepper.length < pepperBytesMin)
    throw new ValidationError(`The key pepper must be at least ${pepperBytesMin} bytes.`);
  return createHmac('sha256', pepper).update(`experiments-webhook:${keyId}`).digest();
}

/** The signing secret as given to the platform once, at key creation: `whsec_` and the key bytes in base64. */
export function experimentsWebhookSecret(pepper: Buffer, keyId: string): string {
  return `${webhookSecretPrefix}${experimentsWebhookKey(pepper, keyId).toString('base64')}`;
}

export interface CreateExperimentsServiceKeyParams {
  pepper: Buffer;
  orgId: string;
  /** The admin creating it: recorded as the submitter whose own tagged requests never count. */
  adminUserId: string;
  name: string;
  expiresAt?: Date | null;
  /** The admin's API key when created through the API; null from the CLI. */
  createdByKeyId?: string | null;
  actor: string;
  clock?: () => Date;
}

/**
 * Creates a service key with the `experiments` scope alone, owned by no user (system account
 * `experiments`), with its audit row. Returns the key secret and the webhook signing secret, once.
 */
export async function createExperimentsServiceKey(
  db: Db,
  params: CreateExperimentsServiceKeyParams,
): Promise<{ key: ApiKeyInfo; secret: string; webhookSecret: string }> {
  const name = parseWith(keyNameInput, params.name, 'service key name');
  const now = (params.clock ?? (() => new Date()))();
  const expiresAt = params.expiresAt ?? null;
  if (expiresAt !== null && expiresAt.getTime() <= now.getTime())
    throw new ValidationError(`Invalid service key: expiresAt (${expiresAt.toISOString()}) must be in the future.`);
  return db.transaction(async (tx) => {
    const [admin] = await tx
      .select({ roles: users.roles })
      .from(users)
      .where(and(eq(users.id, params.adminUserId), eq(users.orgId, params.orgId)))
      .limit(1);
    if (admin === undefined) throw new NotFoundError(`No user ${params.adminUserId} in org ${params.orgId}.`);
    if (!admin.roles.includes('admin'))
      throw new ForbiddenError('Only an admin of the org may create a service key with the experiments scope.');
    const created = await insertKey(tx, params.pepper, {
      orgId: params.orgId,
      userId: null,
      systemOwner: experimentsSystemOwner,
      name,
      scopes: [experimentsScope],
      allowedModels: null,
      rpmLimit: null,
      tpmLimit: null,
      expiresAt,
      createdByKeyId: params.createdByKeyId ?? null,
    });
    await insertExperimentsServiceKey(tx, {
      keyId: created.key.id,
      orgId: params.orgId,
      createdByUserId: params.adminUserId,
    });
    await writeAudit(tx, {
      orgId: params.orgId,
      actor: params.actor,
      action: 'api_key.create',
      entityType: 'api_key',
      entityId: created.key.id,
      before: null,
      after: { ...created.key, submitterUserId: params.adminUserId },
    });
    return { ...created, webhookSecret: experimentsWebhookSecret(params.pepper, created.key.id) };
  });
}
