import { decideSettlement, settlementBoundsSchema, settlementPolicySchema, type Amount } from '@tokenwise/core';
import { findScoringRequest, type Db } from '@tokenwise/db';
import { notifications, scoringConfigs, settlementBounds, settlementPolicies, settlements, usageRecords } from '@tokenwise/db/schema';
import { consumptionAccount, ensureAccount, getTransfer, type Ledger, type LedgerOp } from '@tokenwise/ledger';
import { runPluginSafely, scoreInputOf, type PluginContext, type PluginDefinition } from '@tokenwise/plugin-sdk';
import { Context } from '@temporalio/activity';
import { and, desc, eq } from 'drizzle-orm';
import type { ConfiguredPlugin, ExternalEvidence, PluginOutcomeRecord, SettlementContext, SettlementResult } from './types';

export interface SettlementDeps {
  db: Db;
  ledger: Ledger;
  /** Plugins loaded in this worker, by id. */
  plugins: ReadonlyMap<string, PluginDefinition>;
  /** The context a plugin runs with (its metered LLM client, secrets, logger). */
  contextFor: (pluginId: string) => PluginContext;
  pluginTimeoutMs: number;
}

/** Reads of the reward pool when settlements running at once drain it, before the reward is dropped. */
const rewardAttemptsMax = 3;

/** Plugins per team configuration, at most. */
const pluginsPerConfigMax = 16;

interface StoredPluginEntry {
  pluginId: string;
  weight: number;
  config: unknown;
}

async function usageOf(db: Db, requestId: string) {
  const [usage] = await db.select().from(usageRecords).where(eq(usageRecords.requestId, requestId)).limit(1);
  return usage;
}

/** Activities of `settleUsage`; the worker injects real dependencies, tests their own. */
export function createSettlementActivities(deps: SettlementDeps) {
  return {
    /** Whether and how to settle: the usage must exist, be charged, not be system usage, not be settled yet. */
    async loadSettlementContext(input: { requestId: string }): Promise<SettlementContext> {
      const usage = await usageOf(deps.db, input.requestId);
      const skip = (reason: string, recordSkip = false): SettlementContext => ({ settle: false, reason, plugins: [], recordSkip });
      if (usage === undefined) return skip('no usage row: the request was never charged');
      if (usage.system) return skip('system usage (judge calls) is never settled');
      const [settled] = await deps.db.select({ requestId: settlements.requestId }).from(settlements).where(eq(settlements.requestId, input.requestId)).limit(1);
      if (settled !== undefined) return skip('already settled');
      if ((await getTransfer(deps.db, `charge-${input.requestId}-${usage.currency}`)) === undefined) return skip('the charge is not posted (reconciliation closes this request)');
      if (usage.teamId === null) return skip('the user has no team, so no scoring configuration applies', true);
      const [config] = await deps.db.select().from(scoringConfigs).where(eq(scoringConfigs.teamId, usage.teamId)).orderBy(desc(scoringConfigs.version)).limit(1);
      const entries = ((config?.plugins ?? []) as StoredPluginEntry[]).slice(0, pluginsPerConfigMax);
      if (entries.length === 0) return skip('the team has no scoring plugins enabled', true);
      const plugins: ConfiguredPlugin[] = entries.map((entry) => {
        const definition = deps.plugins.get(entry.pluginId);
        return {
          pluginId: entry.pluginId,
          weight: entry.weight,
          config: entry.config,
          evidenceWindowSeconds: definition?.evidenceWindowSeconds ?? 0,
          pollIntervalSeconds: definition?.pollIntervalSeconds ?? 60,
        };
      });
      return { settle: true, reason: `scoring with ${plugins.map((plugin) => plugin.pluginId).join(', ')}`, plugins, recordSkip: false };
    },

    /** A charged request with nothing to score still gets its settlement row (refund 0), so none is re-driven forever. */
    async recordSkippedSettlement(input: { requestId: string; reason: string }): Promise<void> {
      const usage = await usageOf(deps.db, input.requestId);
      if (usage === undefined) return;
      await deps.db
        .insert(settlements)
        .values({ requestId: input.requestId, score: null, confidence: 0, policyVersion: null, refund: 0n, refundCurrency: usage.currency, reward: 0n, rewardCurrency: null, results: [], reason: input.reason })
        .onConflictDoNothing();
    },

    /** Runs one plugin on the stored request; throws, hangs and garbage come back as recorded errors. */
    async runPlugin(input: { requestId: string; pluginId: string; config: unknown; externalEvidence?: ExternalEvidence[] }): Promise<Omit<PluginOutcomeRecord, 'weight' | 'attempts'>> {
      const plugin = deps.plugins.get(input.pluginId);
      if (plugin === undefined) return { pluginId: input.pluginId, status: 'error', reason: `plugin "${input.pluginId}" is not loaded in this worker` };
      const stored = await findScoringRequest(deps.db, { requestId: input.requestId });
      if (stored === undefined) return { pluginId: input.pluginId, status: 'error', reason: 'usage row vanished' };
      const scoreInput = scoreInputOf(stored, input.config);
      const outcome = await runWithHeartbeats(deps.contextFor(plugin.id), (ctx) => runPluginSafely(plugin, { ...scoreInput, externalEvidence: input.externalEvidence ?? [] }, ctx, { timeoutMs: deps.pluginTimeoutMs }));
      if (outcome.status === 'error') return { pluginId: plugin.id, status: 'error', reason: `${outcome.error.kind}: ${outcome.error.message}` };
      if (outcome.status === 'scored') return { pluginId: plugin.id, status: 'scored', score: outcome.score, confidence: outcome.confidence, evidence: outcome.evidence, rationale: outcome.rationale };
      return { pluginId: plugin.id, status: outcome.status, reason: outcome.reason };
    },

    /**
     * Applies the policy version pinned at admission within the org's bounds: the refund and the
     * reward are ledger transfers with ids derived from the request, and the settlement row and the
     * user's notification are attached to them, so a retry or a duplicate workflow moves nothing twice.
     */
    async applySettlement(input: { requestId: string; outcomes: PluginOutcomeRecord[]; score: number | undefined; confidence: number; workflowId: string }): Promise<SettlementResult> {
      // A retry after the commit (a lost answer, a worker restart) returns what was recorded.
      const [recorded] = await deps.db.select().from(settlements).where(eq(settlements.requestId, input.requestId)).limit(1);
      if (recorded !== undefined) return { status: 'settled', reason: recorded.reason, score: recorded.score ?? undefined, confidence: recorded.confidence, refund: recorded.refund, reward: recorded.reward };
      const usage = await usageOf(deps.db, input.requestId);
      if (usage === undefined) return { status: 'skipped', reason: 'usage row vanished' };
      const [request] = await deps.db.select({ policyVersion: settlementPolicies.version, body: settlementPolicies.body }).from(settlementPolicies).where(and(eq(settlementPolicies.teamId, usage.teamId ?? ''), eq(settlementPolicies.version, await pinnedPolicyVersion(deps.db, input.requestId) ?? -1))).limit(1);
      const [bounds] = await deps.db.select({ body: settlementBounds.body }).from(settlementBounds).where(eq(settlementBounds.orgId, usage.orgId)).limit(1);
      const policy = settlementPolicySchema.parse(request?.body ?? {});
      const decision = decideSettlement({ policy, bounds: settlementBoundsSchema.parse(bounds?.body ?? {}), score: input.score, confidence: input.confidence, cost: usage.cost });
      const baseReason = request === undefined ? `no settlement policy pinned: ${decision.reason}` : decision.reason;
      // The reward comes out of the org's reward pool: never more than it holds. A pool drained by
      // settlements running at the same time is read again, and an empty pool pays no reward;
      // the refund and the settlement never wait on it.
      let reward = decision.reward;
      let rewardNote = '';
      for (let attempt = 1; ; attempt++) {
        if (reward > 0n && decision.rewardCurrency !== undefined && usage.userId !== null) {
          const pool = await ensureAccount(deps.db, { ownerType: 'org', ownerId: usage.orgId, orgId: usage.orgId, currency: decision.rewardCurrency, purpose: 'reward_pool' });
          const available = (await deps.ledger.balance(pool.id)).available;
          if (available < reward) {
            rewardNote = available > 0n ? `; reward capped at the ${available} the org's reward pool holds (policy: ${decision.reward})` : `; no reward: the org's reward pool is empty (policy: ${decision.reward})`;
            reward = available > 0n ? available : 0n;
          }
        }
        const rewardCurrency = reward > 0n ? decision.rewardCurrency : undefined;
        const row = {
          requestId: input.requestId,
          score: input.score ?? null,
          confidence: input.confidence,
          policyVersion: request?.policyVersion ?? null,
          refund: decision.refund,
          refundCurrency: usage.currency,
          reward,
          rewardCurrency: rewardCurrency ?? null,
          results: input.outcomes,
          reason: `${baseReason}${rewardNote}`,
        };
        const notification = {
          orgId: usage.orgId,
          userId: usage.userId,
          kind: 'settlement',
          payload: { requestId: input.requestId, model: usage.model, score: input.score ?? null, refund: decision.refund, currency: usage.currency, reward, rewardCurrency: rewardCurrency ?? null, reason: row.reason },
        };
        const result: SettlementResult = { status: 'settled', reason: row.reason, score: input.score, confidence: input.confidence, refund: decision.refund, reward };
        const ops = await settlementOps(deps, usage, decision.refund, reward, rewardCurrency, input.requestId);
        if (ops.length === 0) {
          await deps.db.insert(settlements).values(row).onConflictDoNothing();
          await deps.db.insert(notifications).values(notification);
          return result;
        }
        // Refund and reward are linked: both apply with the settlement row, or neither does.
        const linked = ops.map((op, index): LedgerOp => ({ ...op, linked: index < ops.length - 1, ...(index === 0 ? { attach: [{ table: settlements, row }, { table: notifications, row: notification }] } : {}) }));
        const results = await deps.ledger.submit(linked);
        const failed = results.find((outcome) => !outcome.ok && outcome.code !== 'linked_event_failed');
        if (failed === undefined) return result;
        if (!failed.ok && failed.code === 'insufficient_funds' && reward > 0n && attempt < rewardAttemptsMax) continue;
        if (!failed.ok && failed.code === 'insufficient_funds' && reward > 0n) {
          reward = 0n;
          rewardNote = `; no reward: the org's reward pool ran dry while settling (policy: ${decision.reward})`;
          continue;
        }
        throw new Error(`settlement transfers of ${input.requestId} failed: ${failed.ok ? 'unknown' : `${failed.code}: ${failed.message}`}`);
      }
    },
  };
}

/** Heartbeats while a plugin runs, so a worker that dies is noticed in seconds, not at the start-to-close timeout. */
const heartbeatIntervalMs = 5_000;

/**
 * Runs a plugin inside the activity: heartbeats meanwhile, and ties the plugin's signal to the
 * activity's cancellation. A cancelled run (worker shutting down) is rethrown, so Temporal retries
 * it on another worker instead of recording the plugin as failed.
 */
async function runWithHeartbeats<T>(base: PluginContext, run: (ctx: PluginContext) => Promise<T>): Promise<T> {
  let activity: Context | undefined;
  try {
    activity = Context.current();
  } catch {
    return run(base);
  }
  const current = activity;
  const timer = setInterval(() => current.heartbeat(), heartbeatIntervalMs);
  try {
    const result = await run({ ...base, signal: AbortSignal.any([base.signal, current.cancellationSignal]) });
    if (current.cancellationSignal.aborted) throw current.cancellationSignal.reason ?? new Error('activity cancelled');
    return result;
  } finally {
    clearInterval(timer);
  }
}

async function pinnedPolicyVersion(db: Db, requestId: string): Promise<number | undefined> {
  const { gatewayRequests } = await import('@tokenwise/db/schema');
  const [row] = await db.select({ policyVersion: gatewayRequests.policyVersion }).from(gatewayRequests).where(eq(gatewayRequests.requestId, requestId)).limit(1);
  return row?.policyVersion ?? undefined;
}

/** The refund (consumption -> wallet, in the currency that paid) and the reward (reward pool -> priority wallet), linked. */
async function settlementOps(deps: SettlementDeps, usage: NonNullable<Awaited<ReturnType<typeof usageOf>>>, refund: Amount, reward: Amount, rewardCurrency: string | undefined, requestId: string): Promise<LedgerOp[]> {
  const ops: LedgerOp[] = [];
  if (usage.userId === null) return ops;
  if (refund > 0n) {
    const wallet = await ensureAccount(deps.db, { ownerType: 'user', ownerId: usage.userId, orgId: usage.orgId, currency: usage.currency, purpose: 'wallet' });
    const sink = await consumptionAccount(deps.db, usage.currency);
    ops.push({ type: 'transfer', id: `refund-${requestId}`, debitAccountId: sink.id, creditAccountId: wallet.id, amount: refund, code: 'refund', userData: { requestId } });
  }
  if (reward > 0n && rewardCurrency !== undefined) {
    const pool = await ensureAccount(deps.db, { ownerType: 'org', ownerId: usage.orgId, orgId: usage.orgId, currency: rewardCurrency, purpose: 'reward_pool' });
    const wallet = await ensureAccount(deps.db, { ownerType: 'user', ownerId: usage.userId, orgId: usage.orgId, currency: rewardCurrency, purpose: 'wallet' });
    ops.push({ type: 'transfer', id: `reward-${requestId}`, debitAccountId: pool.id, creditAccountId: wallet.id, amount: reward, code: 'reward', userData: { requestId } });
  }
  return ops;
}
