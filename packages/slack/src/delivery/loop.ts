import type { webApi } from '@slack/bolt';
import {
  claimDueSlackDeliveries,
  enqueueSlackDeliveries,
  markSlackDeliveriesHandled,
  markSlackDeliveriesSent,
  recordSlackRaiseMessage,
  releaseSlackDeliveries,
  retrySlackDeliveries,
  staleSlackRaiseMessages,
  type ClaimedSlackDelivery,
  type Db,
} from '@tokenwise/db';
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { composeImmediate, immediateKindList } from './compose';
import { sendDigests } from './digests';
import { refreshRaiseCopies } from './raise-copies';
import { createRecipientDirectory, type RecipientDirectory } from './recipients';
import { classifySlackFailure, type SlackFailure } from './slack-errors';

/** How the loop paces itself; every limit named with its unit. */
export interface DeliveryLoopOptions {
  /** Pause between passes over the notification rows. */
  pollIntervalMs?: number;
  /** At most one settlement digest per user per this interval (TOKENWISE_SLACK_DIGEST_SECONDS). */
  digestIntervalMs?: number;
  /** How long a claimed row stays this process's; a crashed process's rows are free after it. */
  leaseMs?: number;
  /** Backoff after a failed send: initial, doubled per attempt, capped. */
  backoffInitialMs?: number;
  backoffMaxMs?: number;
  /** Rows claimed (and users digested) per pass. */
  batchMax?: number;
  /** Names this process on the rows it leases; unique per process by default. */
  owner?: string;
  now?: () => Date;
}

export const deliveryDefaults = {
  pollIntervalMs: 2_000,
  digestIntervalMs: 3_600_000,
  leaseMs: 60_000,
  backoffInitialMs: 2_000,
  backoffMaxMs: 10 * 60_000,
  batchMax: 50,
} as const;

export interface DeliveryLoopDeps {
  db: Db;
  orgId: string;
  /** A client without the SDK's own retries and with `rejectRateLimitedCalls`: the loop paces itself. */
  client: webApi.WebClient;
  log: (line: string) => void;
  recipients?: RecipientDirectory;
}

export interface DeliveryLoop {
  /** One pass now (after any pass in progress); resolves when it is done. */
  runOnce(): Promise<void>;
  /** Stops after the send in flight; rows claimed but not sent are released untried. */
  stop(): Promise<void>;
}

/** What a pass shares with the digest sender: the clock, the pause, and how failures are recorded. */
export interface PassContext {
  deps: DeliveryLoopDeps;
  settings: Required<DeliveryLoopOptions>;
  recipients: RecipientDirectory;
  /** False once a rate limit paused sending or the loop is stopping: claim nothing more. */
  mayContinue(): boolean;
  recordFailure(rows: readonly ClaimedSlackDelivery[], failure: SlackFailure): Promise<void>;
}

/**
 * Starts the durable delivery of the org's notification rows as Slack DMs: soft-cap alerts and
 * raise messages at once, settlement results as a digest, each row recorded as sent right after
 * Slack took it (at least once). Slack's 429 pauses all sending for its Retry-After; other
 * failures back off per row; a person not in Slack is recorded so and not tried again.
 */
export function startDeliveryLoop(deps: DeliveryLoopDeps, options: DeliveryLoopOptions = {}): DeliveryLoop {
  const settings: Required<DeliveryLoopOptions> = {
    ...deliveryDefaults,
    owner: `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`,
    now: () => new Date(),
    ...options,
  };
  const recipients = deps.recipients ?? createRecipientDirectory({ client: deps.client });
  let stopped = false;
  let pausedUntilMs = 0;
  let timer: NodeJS.Timeout | undefined;
  let chain: Promise<void> = Promise.resolve();
  const nowMs = () => settings.now().getTime();

  const pass: PassContext = {
    deps,
    settings,
    recipients,
    mayContinue: () => !stopped && nowMs() >= pausedUntilMs,
    async recordFailure(rows, failure) {
      const ids = rows.map((row) => row.notificationId);
      deps.log(`slack: delivery of notification ${ids.join(', ')} failed: ${failure.error}`);
      if (failure.kind === 'no_slack_user' || failure.kind === 'permanent') {
        const state = failure.kind === 'no_slack_user' ? 'no_slack_user' : 'failed';
        await markSlackDeliveriesHandled(deps.db, { ids, state, error: failure.error, at: settings.now() });
        return;
      }
      if (failure.kind === 'rate_limited') pausedUntilMs = Math.max(pausedUntilMs, nowMs() + failure.retryAfterMs);
      const attempts = Math.max(0, ...rows.map((row) => row.attempts));
      const backoffMs = Math.min(settings.backoffMaxMs, settings.backoffInitialMs * 2 ** Math.min(attempts, 30));
      const nextMs = failure.kind === 'rate_limited' ? pausedUntilMs : nowMs() + backoffMs;
      await retrySlackDeliveries(deps.db, { ids, nextAttemptAt: new Date(nextMs), error: failure.error });
    },
  };

  async function deliverOne(row: ClaimedSlackDelivery): Promise<void> {
    if (row.userId === null || row.email === null) {
      await markSlackDeliveriesHandled(deps.db, {
        ids: [row.notificationId],
        state: 'no_recipient',
        at: settings.now(),
      });
      return;
    }
    const composed = await composeImmediate(deps.db, deps.orgId, row);
    if (composed.kind === 'unsendable') {
      await pass.recordFailure([row], { kind: 'permanent', error: composed.error });
      return;
    }
    let sent: { channel: string; ts: string };
    try {
      const { channel } = await recipients.dmChannelOf(row.email);
      const posted = await deps.client.chat.postMessage({ channel, ...composed.message });
      if (posted.ts === undefined) throw new Error('chat.postMessage answered no ts');
      sent = { channel: posted.channel ?? channel, ts: posted.ts };
    } catch (error) {
      await pass.recordFailure([row], classifySlackFailure(error));
      return;
    }
    await markSlackDeliveriesSent(deps.db, { ids: [row.notificationId], ...sent, sentAt: settings.now() });
    if (composed.raise === undefined) return;
    await recordSlackRaiseMessage(deps.db, { ...composed.raise, userId: row.userId, ...sent });
    // Decided while this copy was on its way: show the decision on it too.
    if (composed.raise.shownState === 'pending') await refreshCopies(composed.raise.raiseId);
  }

  async function refreshCopies(raiseId: string): Promise<void> {
    const failure = await refreshRaiseCopies({ ...deps }, raiseId);
    if (failure?.kind === 'rate_limited') pausedUntilMs = Math.max(pausedUntilMs, nowMs() + failure.retryAfterMs);
  }

  async function sendImmediate(): Promise<void> {
    const rows = await claimDueSlackDeliveries(deps.db, {
      orgId: deps.orgId,
      kinds: immediateKindList,
      owner: settings.owner,
      now: settings.now(),
      leaseMs: settings.leaseMs,
      limit: settings.batchMax,
    });
    for (const [index, row] of rows.entries()) {
      if (!pass.mayContinue()) {
        const rest = rows.slice(index).map((left) => left.notificationId);
        await releaseSlackDeliveries(deps.db, { ids: rest, nextAttemptAt: new Date(Math.max(pausedUntilMs, nowMs())) });
        return;
      }
      await deliverOne(row);
    }
  }

  async function runPass(): Promise<void> {
    if (!pass.mayContinue()) return;
    await enqueueSlackDeliveries(deps.db, {
      orgId: deps.orgId,
      kinds: [...immediateKindList, 'settlement'],
      limit: settings.batchMax * 4,
      now: settings.now(),
    });
    for (const copy of await staleSlackRaiseMessages(deps.db, { orgId: deps.orgId, limit: settings.batchMax })) {
      if (!pass.mayContinue()) return;
      await refreshCopies(copy.raiseId);
    }
    await sendImmediate();
    if (pass.mayContinue()) await sendDigests(pass);
  }

  function runOnce(): Promise<void> {
    const next = chain.then(runPass);
    chain = next.catch((error: unknown) => {
      deps.log(`slack: a delivery pass failed: ${error instanceof Error ? error.message : String(error)}`);
    });
    return next;
  }

  function schedule(): void {
    if (stopped) return;
    const delayMs = Math.max(settings.pollIntervalMs, pausedUntilMs - nowMs());
    timer = setTimeout(() => {
      runOnce()
        .catch(() => {})
        .finally(schedule);
    }, delayMs);
  }
  schedule();

  return {
    runOnce,
    async stop() {
      stopped = true;
      if (timer !== undefined) clearTimeout(timer);
      await chain;
    },
  };
}
