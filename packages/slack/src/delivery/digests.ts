import {
  claimSlackDigest,
  dueSlackDigestUsers,
  markSlackDeliveriesHandled,
  markSlackDeliveriesSent,
  releaseSlackDigest,
  type ClaimedSlackDigest,
} from '@tokenwise/db';
import type { PassContext } from './loop';
import { settlementDigestMessage } from './notice-blocks';
import { settlementNote } from './payloads';
import { classifySlackFailure } from './slack-errors';

/** Settlement rows one digest carries at most; more wait for the next. */
export const digestRowsMax = 500;

/** Sends each due user's settlement digest: one message for all their pending rows, none to the muted. */
export async function sendDigests(pass: PassContext): Promise<void> {
  const { deps, settings } = pass;
  const userIds = await dueSlackDigestUsers(deps.db, {
    orgId: deps.orgId,
    now: settings.now(),
    intervalMs: settings.digestIntervalMs,
    limit: settings.batchMax,
  });
  for (const userId of userIds) {
    if (!pass.mayContinue()) return;
    const digest = await claimSlackDigest(deps.db, {
      orgId: deps.orgId,
      userId,
      owner: settings.owner,
      now: settings.now(),
      intervalMs: settings.digestIntervalMs,
      leaseMs: settings.leaseMs,
      rowsMax: digestRowsMax,
    });
    if (digest !== undefined) await sendDigest(pass, digest);
  }
}

async function sendDigest(pass: PassContext, digest: ClaimedSlackDigest): Promise<void> {
  const { deps, settings } = pass;
  const ids = digest.rows.map((row) => row.notificationId);
  if (digest.muted) {
    await markSlackDeliveriesHandled(deps.db, { ids, state: 'muted', at: settings.now() });
    await releaseSlackDigest(deps.db, { userId: digest.userId, owner: settings.owner, sentAt: null });
    return;
  }
  const message = settlementDigestMessage(digest.rows.map((row) => settlementNote(row.payload)));
  let sent: { channel: string; ts: string };
  try {
    const { channel } = await pass.recipients.dmChannelOf(digest.email);
    const posted = await deps.client.chat.postMessage({ channel, ...message });
    if (posted.ts === undefined) throw new Error('chat.postMessage answered no ts');
    sent = { channel: posted.channel ?? channel, ts: posted.ts };
  } catch (error) {
    await pass.recordFailure(digest.rows, classifySlackFailure(error));
    await releaseSlackDigest(deps.db, { userId: digest.userId, owner: settings.owner, sentAt: null });
    return;
  }
  const sentAt = settings.now();
  // The rows and the digest's time commit together: a crash cannot leave them sent with the interval unstarted.
  await deps.db.transaction(async (tx) => {
    await markSlackDeliveriesSent(tx, { ids, ...sent, sentAt });
    await releaseSlackDigest(tx, { userId: digest.userId, owner: settings.owner, sentAt });
  });
}
