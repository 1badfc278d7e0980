import { and, eq } from 'drizzle-orm';
import type { Db } from '../client';
import { slackUserStates } from '../schema/index';
import { writeAudit } from './audit';

// The setting lives on the user's Slack state row (the delivery loop reads it with the digest it
// locks); each change also leaves an audit row saying who changed it when.
const entityType = 'slack_preferences';
const muteAction = 'slack.settlement_mute';

/** Whether the user muted settlement messages in Slack (App Home toggle); false until they do. */
export async function isSettlementMuted(db: Db, params: { orgId: string; userId: string }): Promise<boolean> {
  const [row] = await db
    .select({ muted: slackUserStates.settlementsMuted })
    .from(slackUserStates)
    .where(and(eq(slackUserStates.userId, params.userId), eq(slackUserStates.orgId, params.orgId)))
    .limit(1);
  return row?.muted ?? false;
}

/** Mutes or unmutes the user's settlement messages; returns the setting now in force. */
export async function setSettlementMuted(
  db: Db,
  params: { orgId: string; userId: string; muted: boolean; actor: string },
): Promise<boolean> {
  return db.transaction(async (tx) => {
    const before = await isSettlementMuted(tx, params);
    await tx
      .insert(slackUserStates)
      .values({ userId: params.userId, orgId: params.orgId, settlementsMuted: params.muted })
      .onConflictDoUpdate({
        target: slackUserStates.userId,
        set: { settlementsMuted: params.muted, updatedAt: new Date() },
      });
    await writeAudit(tx, {
      orgId: params.orgId,
      actor: params.actor,
      action: muteAction,
      entityType,
      entityId: params.userId,
      before: { settlementMuted: before },
      after: { settlementMuted: params.muted },
    });
    return params.muted;
  });
}
