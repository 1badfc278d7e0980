import { and, desc, eq } from 'drizzle-orm';
import type { Db } from '../client';
import { auditLog } from '../schema/index';

export interface AuditEntry {
  orgId: string | null;
  actor: string;
  action: string;
  entityType: string;
  entityId: string;
  before: unknown;
  after: unknown;
}

/** Writes one audit row; call it with the transaction that makes the change. */
export async function writeAudit(db: Db, entry: AuditEntry): Promise<void> {
  await db.insert(auditLog).values(entry);
}

export const auditPageSizeMax = 100;

/** The newest audit rows for one entity, newest first. */
export async function listAuditForEntity(db: Db, params: { entityType: string; entityId: string; limit?: number }) {
  const limit = Math.min(Math.max(params.limit ?? 50, 1), auditPageSizeMax);
  return db
    .select({
      id: auditLog.id,
      orgId: auditLog.orgId,
      actor: auditLog.actor,
      action: auditLog.action,
      entityType: auditLog.entityType,
      entityId: auditLog.entityId,
      before: auditLog.before,
      after: auditLog.after,
      at: auditLog.at,
    })
    .from(auditLog)
    .where(and(eq(auditLog.entityType, params.entityType), eq(auditLog.entityId, params.entityId)))
    .orderBy(desc(auditLog.id))
    .limit(limit);
}
