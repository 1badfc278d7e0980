import { and, desc, eq } from 'drizzle-orm';
import type { Db } from '../client';
import { auditLog } from '../schema/index';
import { writeAudit } from './audit';

// A Slack preference is kept as the audit trail of its changes (no table of its own): the newest
// row for the user is the setting in force, and who changed it when is recorded by the same row.
const entityType = 'slack_preferences';
const muteAction = 'slack.settlement_mute';

/** Whether the user muted settlement messages in Slack (App Home toggle); false until they do. */
export async function isSettlementMuted(db: Db, params: { orgId: string; userId: string }): Promise<boolean> {
  const [row] = await db
    .select({ after: auditLog.after })
    .from(auditLog)
    .where(
      and(
        eq(auditLog.entityType, entityType),
        eq(auditLog.entityId, params.userId),
        eq(auditLog.orgId, params.orgId),
        eq(auditLog.action, muteAction),
      ),
    )
    .orderBy(desc(auditLog.id))
    .limit(1);
  return (row?.after as { settlementMuted?: unknown } | undefined)?.settlementMuted === true;
}

/** Mutes or unmutes the user's settlement messages; returns the setting now in force. */
export async function setSettlementMuted(
  db: Db,
  params: { orgId: string; userId: string; muted: boolean; actor: string },
): Promise<boolean> {
  const before = await isSettlementMuted(db, params);
  await writeAudit(db, {
    orgId: params.orgId,
    actor: params.actor,
    action: muteAction,
    entityType,
    entityId: params.userId,
    before: { settlementMuted: before },
    after: { settlementMuted: params.muted },
  });
  return params.muted;
}
