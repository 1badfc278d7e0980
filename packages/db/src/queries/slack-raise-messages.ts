import { and, asc, eq, ne } from 'drizzle-orm';
import type { Db } from '../client';
import { carbonRaises, slackRaiseMessages } from '../schema/index';

/** The raise-request message one ESG officer got, and the state it shows. */
export interface SlackRaiseMessage {
  raiseId: string;
  userId: string;
  channel: string;
  ts: string;
  shownState: 'pending' | 'approved' | 'denied';
}

const columns = {
  raiseId: slackRaiseMessages.raiseId,
  userId: slackRaiseMessages.userId,
  channel: slackRaiseMessages.channel,
  ts: slackRaiseMessages.ts,
  shownState: slackRaiseMessages.shownState,
};

/** Most copies of one raise (one per ESG officer notified). */
export const slackRaiseMessagesMax = 200;

/** Records the officer's copy of a raise request; a second send (after a crash) replaces the first. */
export async function recordSlackRaiseMessage(db: Db, params: SlackRaiseMessage): Promise<void> {
  await db
    .insert(slackRaiseMessages)
    .values(params)
    .onConflictDoUpdate({
      target: [slackRaiseMessages.raiseId, slackRaiseMessages.userId],
      set: { channel: params.channel, ts: params.ts, shownState: params.shownState, postedAt: new Date() },
    });
}

/** Every officer's copy of the raise. */
export async function listSlackRaiseMessages(db: Db, params: { raiseId: string }): Promise<SlackRaiseMessage[]> {
  return db
    .select(columns)
    .from(slackRaiseMessages)
    .where(eq(slackRaiseMessages.raiseId, params.raiseId))
    .orderBy(asc(slackRaiseMessages.postedAt))
    .limit(slackRaiseMessagesMax);
}

/** Copies in the org that still show a state other than their raise's (a decision not yet shown), at most `limit`. */
export async function staleSlackRaiseMessages(
  db: Db,
  params: { orgId: string; limit: number },
): Promise<SlackRaiseMessage[]> {
  return db
    .select(columns)
    .from(slackRaiseMessages)
    .innerJoin(carbonRaises, eq(carbonRaises.id, slackRaiseMessages.raiseId))
    .where(
      and(
        eq(carbonRaises.orgId, params.orgId),
        ne(carbonRaises.state, 'pending'),
        eq(slackRaiseMessages.shownState, 'pending'),
      ),
    )
    .limit(params.limit);
}

/** Records that Slack now shows `shownState` on the officer's copy. */
export async function markSlackRaiseMessageShown(
  db: Db,
  params: { raiseId: string; userId: string; shownState: 'approved' | 'denied' },
): Promise<void> {
  await db
    .update(slackRaiseMessages)
    .set({ shownState: params.shownState, updatedAt: new Date() })
    .where(and(eq(slackRaiseMessages.raiseId, params.raiseId), eq(slackRaiseMessages.userId, params.userId)));
}
