import { ForbiddenError, NotFoundError, parseWith, ValidationError } from '@tokenwise/core';
import { insertExperimentsServiceKey, writeAudit, type Db } from '@tokenwise/db';
import { users } from '@tokenwise/db/schema';
import { and, eq } from 'drizzle-orm';
import { keyNameInput } from '../keys/api-keys';
import { insertKey } from '../keys/api-keys';
import type { ApiKeyInfo } from '../keys/types';
import { experimentsScope, experimentsSystemOwner, experimentsWebhookSecret } from './webhook-secret';

export {
  experimentsScope,
  experimentsSystemOwner,
  experimentsWebhookKey,
  experimentsWebhookSecret,
  webhookSecretPrefix,
} from './webhook-secret';

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
