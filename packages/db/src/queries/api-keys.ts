import { and, eq } from 'drizzle-orm';
import type { Db } from '../client';
import { apiKeys } from '../schema/index';

/** Who owns the org's key (null: a system account), or undefined when the org has no such key. */
export async function findApiKeyOwner(
  db: Db,
  params: { keyId: string; orgId: string },
): Promise<{ userId: string | null } | undefined> {
  const [owner] = await db
    .select({ userId: apiKeys.userId })
    .from(apiKeys)
    .where(and(eq(apiKeys.id, params.keyId), eq(apiKeys.orgId, params.orgId)))
    .limit(1);
  return owner;
}
