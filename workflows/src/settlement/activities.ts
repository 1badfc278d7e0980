import {
  type Amount,
  decideSettlement,
  fromJsonValue,
  monthlyPeriod,
  refundTransferId,
  rewardTransferId,
  type SettlementBounds,
  settlementBoundsSchema,
  type SettlementDecision,
  settlementPolicySchema,
} from '@tokenwise/core';
import { findScoringRequest, type Db } from '@tokenwise/db';
import {
  gatewayRequests,
  notifications,
  orgs,
  settlementBounds,
  settlementPolicies,
  settlements,
  usageRecords,
} from '@tokenwise/db/schema';
import {
  createAccountLookup,
  type AccountLookup,
  type FailureCode,
  type Ledger,
  type LedgerOp,
} from '@tokenwise/ledger';
import {
  runPluginSafely,
  scoreInputOf,
  type LlmPayer,
  type PluginContext,
  type PluginDefinition,
} from '@tokenwise/plugin-sdk';
import { judgeBudgetExhaustedReason, watchJudgeBudget } from './judge-budget';
import { Context } from '@temporalio/activity';
import { and, eq, sql } from 'drizzle-orm';
import { planRewardCapLevel, readRewardCap, rewardCapCodes, rewardCapUseOp } from './reward-cap';
import type {
  ConfiguredPlugin,
  ExternalEvidence,
  PluginOutcomeRecord,
  SettlementContext,
  SettlementResult,
} from './types';

export interface SettlementDeps {
  db: Db;
  ledger: Ledger;
  /** Plugins loaded in this worker, by id. */
  plugins: ReadonlyMap<string, PluginDefinition>;
  /**
   * The context a plugin runs with (its metered LLM client, secrets, logger); its LLM calls are
   * charged to `payer`, the judge wallet of the org whose request is scored.
   */
  contextFor: (pluginId: string, payer: LlmPayer) => PluginContext;
  pluginTimeoutMs: number;
}

/**
 * Reads of the reward pool and the user's monthly cap when settlements running at once take them
 * first, before the reward is dropped (each lost race means another settlement's reward committed).
 */
const rewardAttemptsMax = 5;

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
  // Accounts never change once opened: each is looked up (or opened) once per worker.
  const account = createAccountLookup((key) => deps.ledger.ensureAccount(key));
  return {
    /** Whether and how to settle: the usage must exist, be charged, not be system usage, not be settled yet. */
    async loadSettlementContext(input: { requestId: string }): Promise<SettlementContext> {
      // One round trip: the usage row, whether it is settled or charged, and the team's scoring config
      // as pinned when the request was admitted.
      const [usage] = await deps.db
        .select({
          system: usageRecords.system,
          teamId: usageRecords.teamId,
          // Written out qualified: drizzle leaves column names unqualified inside a select's sql, where
          // they would bind to the subquery's own table.
          settled: sql<boolean>`exists (select 1 from settlements s where s.request_id = usage_records.request_id)`,
          // A dry run's judge call quotes the request it judged: scoring it would show that request's
          // prompt to whoever may read the dry-running lead's usage.
          dryRunCall: sql<boolean>`exists (select 1 from api_keys k where k.id = usage_records.key_id and k.minted_for = 'plugin_dry_run')`,
          charged: sql<boolean>`exists (select 1 from ledger_transfers t where t.id = 'charge-' || usage_records.request_id || '-' || usage_records.currency)`,
          // The version pinned at admission; the newest only for requests admitted before versions were pinned.
          plugins: sql<unknown>`(select c.plugins from scoring_configs c where c.team_id = usage_records.team_id
            and c.version = coalesce((select g.scoring_config_version from gateway_requests g where g.request_id = usage_records.request_id),
                                     (select max(n.version) from scoring_configs n where n.team_id = usage_records.team_id)))`,
        })
        .from(usageRecords)
        .where(eq(usageRecords.requestId, input.requestId))
        .limit(1);
      const skip = (reason: string, recordSkip = false): SettlementContext => ({
        settle: false,
        reason,
        plugins: [],
        recordSkip,
      });
      if (usage === undefined) return skip('no usage row: the request was never charged');
      if (usage.system) return skip('system usage (judge calls) is never settled');
      if (usage.settled) return skip('already settled');
      if (!usage.charged) return skip('the charge is not posted (reconciliation closes this request)');
      if (usage.dryRunCall) return skip("a plugin dry run's own LLM call is never settled", true);
      if (usage.teamId === null) return skip('the user has no team, so no scoring configuration applies', true);
      const config = {
        plugins: usage.plugins === null || usage.plugins === undefined ? [] : fromJsonValue(usage.plugins),
      };
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
      return {
        settle: true,
        reason: `scoring with ${plugins.map((plugin) => plugin.pluginId).join(', ')}`,
        plugins,
        recordSkip: false,
      };
    },

    /** A charged request with nothing to score still gets its settlement row (refund 0), so none is re-driven forever. */
    async recordSkippedSettlement(input: { requestId: string; reason: string }): Promise<void> {
      const usage = await usageOf(deps.db, input.requestId);
      if (usage === undefined) return;
      await deps.db
        .insert(settlements)
        .values({
          requestId: input.requestId,
          score: null,
          confidence: 0,
          policyVersion: null,
          refund: 0n,
          refundCurrency: usage.currency,
          reward: 0n,
          rewardCurrency: null,
          results: [],
          reason: input.reason,
        })
        .onConflictDoNothing();
    },

    /** Runs one plugin on the stored request; throws, hangs and garbage come back as recorded errors. */
    async runPlugin(input: {
      requestId: string;
      pluginId: string;
      config: unknown;
      externalEvidence?: ExternalEvidence[];
    }): Promise<Omit<PluginOutcomeRecord, 'weight' | 'attempts'>> {
      const plugin = deps.plugins.get(input.pluginId);
      if (plugin === undefined)
        return {
          pluginId: input.pluginId,
          status: 'error',
          reason: `plugin "${input.pluginId}" is not loaded in this worker`,
        };
      const stored = await findScoringRequest(deps.db, { requestId: input.requestId });
      if (stored === undefined) return { pluginId: input.pluginId, status: 'error', reason: 'usage row vanished' };
      const scoreInput = scoreInputOf(stored, input.config);
      // The org whose request is scored pays for its judging, from its own judge wallet.
      const base = deps.contextFor(plugin.id, { kind: 'judge', orgId: stored.orgId });
      const budget = watchJudgeBudget(base.llm);
      const outcome = await runWithHeartbeats({ ...base, llm: budget.llm }, (ctx) =>
        runPluginSafely(plugin, { ...scoreInput, externalEvidence: input.externalEvidence ?? [] }, ctx, {
          timeoutMs: deps.pluginTimeoutMs,
        }),
      );
      if (outcome.status === 'error' && budget.exhausted()) {
        return {
          pluginId: plugin.id,
          status: 'not_applicable',
          reason: await judgeBudgetExhaustedReason(deps.db, stored.orgId),
          judgeBudgetExhausted: true,
        };
      }
      if (outcome.status === 'error')
        return { pluginId: plugin.id, status: 'error', reason: `${outcome.error.kind}: ${outcome.error.message}` };
      if (outcome.status === 'scored')
        return {
          pluginId: plugin.id,
          status: 'scored',
          score: outcome.score,
          confidence: outcome.confidence,
          evidence: outcome.evidence,
          rationale: outcome.rationale,
        };
      return { pluginId: plugin.id, status: outcome.status, reason: outcome.reason };
    },

    /**
     * Applies the policy version pinned at admission within the org's bounds: the refund and the
     * reward are ledger transfers with ids derived from the request, and the settlement row and the
     * user's notification are attached to them, so a retry or a duplicate workflow moves nothing twice.
     */
    async applySettlement(input: {
      requestId: string;
      outcomes: PluginOutcomeRecord[];
      score: number | undefined;
      confidence: number;
      workflowId: string;
    }): Promise<SettlementResult> {
      // One round trip: what was recorded (a retry after the commit returns it), the usage row, the
      // policy version pinned at admission, the org's bounds and its time zone.
      const [found] = await deps.db
        .select({
          usage: usageRecords,
          recorded: settlements,
          policyVersion: settlementPolicies.version,
          policyBody: settlementPolicies.body,
          boundsBody: settlementBounds.body,
          timeZone: orgs.timeZone,
        })
        .from(usageRecords)
        .leftJoin(settlements, eq(settlements.requestId, usageRecords.requestId))
        .leftJoin(gatewayRequests, eq(gatewayRequests.requestId, usageRecords.requestId))
        .leftJoin(
          settlementPolicies,
          and(
            eq(settlementPolicies.teamId, usageRecords.teamId),
            eq(settlementPolicies.version, gatewayRequests.policyVersion),
          ),
        )
        .leftJoin(settlementBounds, eq(settlementBounds.orgId, usageRecords.orgId))
        .leftJoin(orgs, eq(orgs.id, usageRecords.orgId))
        .where(eq(usageRecords.requestId, input.requestId))
        .limit(1);
      if (found === undefined) return { status: 'skipped', reason: 'usage row vanished' };
      const { usage, recorded } = found;
      if (recorded !== null) return recordedResult(recorded);
      const request =
        found.policyVersion === null ? undefined : { policyVersion: found.policyVersion, body: found.policyBody };
      const policy = settlementPolicySchema.parse(request?.body ?? {});
      const bounds = settlementBoundsSchema.parse(found.boundsBody ?? {});
      const decision = decideSettlement({
        policy,
        bounds,
        score: input.score,
        confidence: input.confidence,
        cost: usage.cost,
        costCurrency: usage.currency,
      });
      // An org whose judge budget ran out says so on its settlement, where its admin and users see it.
      const judgeNote = input.outcomes
        .filter((outcome) => outcome.judgeBudgetExhausted === true)
        .map((outcome) => `; ${outcome.pluginId} not applicable: ${outcome.reason ?? 'judge budget exhausted'}`)
        .join('');
      const baseReason = `${request === undefined ? `no settlement policy pinned: ${decision.reason}` : decision.reason}${judgeNote}`;
      const period = monthlyPeriod(new Date(), found.timeZone ?? 'UTC');
      // The reward is bounded again by what the org's reward pool holds and by the user's monthly
      // cap, both read fresh on each attempt: settlements running at once that take them first make
      // this one read again, and after the last attempt it settles without a reward. The refund
      // and the settlement never wait on either.
      let dropped: string | undefined;
      for (let attempt = 1; attempt <= rewardAttemptsMax + 1; attempt++) {
        const reward =
          dropped === undefined
            ? await boundReward({ ...deps, account }, usage, decision, bounds, period)
            : { amount: 0n, ops: [], note: dropped };
        const rewardCurrency = reward.amount > 0n ? decision.rewardCurrency : undefined;
        const row = {
          requestId: input.requestId,
          score: input.score ?? null,
          confidence: input.confidence,
          policyVersion: request?.policyVersion ?? null,
          refund: decision.refund,
          refundCurrency: usage.currency,
          reward: reward.amount,
          rewardCurrency: rewardCurrency ?? null,
          results: input.outcomes,
          reason: `${baseReason}${reward.note}`,
        };
        const notification = {
          orgId: usage.orgId,
          userId: usage.userId,
          kind: 'settlement',
          payload: {
            requestId: input.requestId,
            model: usage.model,
            score: input.score ?? null,
            refund: decision.refund,
            currency: usage.currency,
            reward: reward.amount,
            rewardCurrency: rewardCurrency ?? null,
            reason: row.reason,
          },
        };
        const result: SettlementResult = {
          status: 'settled',
          reason: row.reason,
          score: input.score,
          confidence: input.confidence,
          refund: decision.refund,
          reward: reward.amount,
        };
        const ops = [
          ...(await settlementOps(account, usage, decision.refund, reward.amount, rewardCurrency, input.requestId)),
          ...(reward.amount > 0n ? reward.ops : []),
        ];
        if (ops.length === 0) {
          await deps.db.insert(settlements).values(row).onConflictDoNothing();
          await deps.db.insert(notifications).values(notification);
          return result;
        }
        // Refund, reward and the debit of the monthly cap are linked: all apply with the settlement
        // row, or none does.
        const linked = ops.map((op, index): LedgerOp => ({
          ...op,
          linked: index < ops.length - 1,
          ...(index === 0
            ? {
                attach: [
                  { table: settlements, row },
                  { table: notifications, row: notification },
                ],
              }
            : {}),
        }));
        const results = await deps.ledger.submit(linked);
        const failedAt = results.findIndex((outcome) => !outcome.ok && outcome.code !== 'linked_event_failed');
        if (failedAt < 0) return result;
        const failed = results[failedAt];
        const failedOp = ops[failedAt];
        const rewardTaken =
          failedOp !== undefined &&
          failed !== undefined &&
          !failed.ok &&
          reward.amount > 0n &&
          isTakenByAnotherSettlement(failedOp, failed.code);
        if (rewardTaken && attempt < rewardAttemptsMax) continue;
        if (rewardTaken) {
          dropped =
            failedOp.type === 'transfer' && failedOp.code === 'reward'
              ? `; no reward: the org's reward pool ran dry while settling (policy: ${decision.rewardDue})`
              : `; no reward: the user's monthly reward cap was taken by other settlements while settling (policy: ${decision.rewardDue})`;
          continue;
        }
        // A retry of this activity that lost the race to its own first attempt finds its row.
        const settledMeanwhile = await recordedSettlement(deps.db, input.requestId);
        if (settledMeanwhile !== undefined) return settledMeanwhile;
        throw new Error(
          `settlement transfers of ${input.requestId} failed: ${failed === undefined || failed.ok ? 'unknown' : `${failed.code}: ${failed.message}`}`,
        );
      }
      throw new Error(`settlement of ${input.requestId} did not settle within ${rewardAttemptsMax + 1} attempts`);
    },
  };
}

/** A reward op that failed because settlements running at once took the pool or the cap first: read again. */
function isTakenByAnotherSettlement(op: LedgerOp, code: FailureCode): boolean {
  if (op.type !== 'transfer') return false;
  if (op.code === 'reward' || op.code === rewardCapCodes.use) return code === 'insufficient_funds';
  // A level change that collides with one committed since this settlement read the level.
  return op.code === rewardCapCodes.level && (code === 'idempotency_conflict' || code === 'insufficient_funds');
}

function recordedResult(recorded: typeof settlements.$inferSelect): SettlementResult {
  return {
    status: 'settled',
    reason: recorded.reason,
    score: recorded.score ?? undefined,
    confidence: recorded.confidence,
    refund: recorded.refund,
    reward: recorded.reward,
  };
}

async function recordedSettlement(db: Db, requestId: string): Promise<SettlementResult | undefined> {
  const [recorded] = await db.select().from(settlements).where(eq(settlements.requestId, requestId)).limit(1);
  return recorded === undefined ? undefined : recordedResult(recorded);
}

interface BoundedReward {
  amount: Amount;
  /** The cap's level change (if any) and its debit, to link after the reward transfer. */
  ops: LedgerOp[];
  /** Why the reward is less than the policy's decision, for the settlement row and notification. */
  note: string;
}

/**
 * The decided reward, cut to the user's monthly cap (org's time zone) and then to what the org's
 * reward pool holds, with the cap's ledger ops. Reads fresh state; the linked chain re-checks it.
 */
async function boundReward(
  deps: { db: Db; ledger: Ledger; account: AccountLookup },
  usage: typeof usageRecords.$inferSelect,
  decision: SettlementDecision,
  bounds: SettlementBounds,
  period: string,
): Promise<BoundedReward> {
  let amount = decision.reward;
  const currency = decision.rewardCurrency;
  if (amount <= 0n || currency === undefined || usage.userId === null) return { amount: 0n, ops: [], note: '' };
  let note = '';
  const cap = bounds.maxRewardPerUserPerMonth;
  const state = await readRewardCap(deps, { orgId: usage.orgId, userId: usage.userId, currency, period });
  const level = planRewardCapLevel(state, cap);
  if (level.available < amount) {
    amount = level.available > 0n ? level.available : 0n;
    note = `; reward capped at ${amount} by the org's maxRewardPerUserPerMonth ${cap} ${currency} (${level.used} already rewarded to this user in ${period}; policy: ${decision.reward})`;
  }
  if (amount > 0n) {
    const pool = await deps.account({
      ownerType: 'org',
      ownerId: usage.orgId,
      orgId: usage.orgId,
      currency,
      purpose: 'reward_pool',
    });
    const available = (await deps.ledger.balance(pool.id)).available;
    if (available < amount) {
      note +=
        available > 0n
          ? `; reward capped at the ${available} the org's reward pool holds (policy: ${decision.reward})`
          : `; no reward: the org's reward pool is empty (policy: ${decision.reward})`;
      amount = available > 0n ? available : 0n;
    }
  }
  if (amount <= 0n) return { amount: 0n, ops: [], note };
  return {
    amount,
    ops: [...(level.op === undefined ? [] : [level.op]), rewardCapUseOp(state, usage.requestId, amount)],
    note,
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
  // A local activity has no heartbeat: its workflow task stands for it (and is retried if its worker dies).
  const timer = current.info.isLocal ? undefined : setInterval(() => current.heartbeat(), heartbeatIntervalMs);
  try {
    const result = await run({ ...base, signal: AbortSignal.any([base.signal, current.cancellationSignal]) });
    if (current.cancellationSignal.aborted) throw current.cancellationSignal.reason ?? new Error('activity cancelled');
    return result;
  } finally {
    clearInterval(timer);
  }
}

/** The refund (consumption -> wallet, in the currency that paid) and the reward (reward pool -> priority wallet), linked. */
async function settlementOps(
  account: AccountLookup,
  usage: typeof usageRecords.$inferSelect,
  refund: Amount,
  reward: Amount,
  rewardCurrency: string | undefined,
  requestId: string,
): Promise<LedgerOp[]> {
  const ops: LedgerOp[] = [];
  if (usage.userId === null) return ops;
  if (refund > 0n) {
    const wallet = await account({
      ownerType: 'user',
      ownerId: usage.userId,
      orgId: usage.orgId,
      currency: usage.currency,
      purpose: 'wallet',
    });
    const sink = await account({
      ownerType: 'system',
      ownerId: 'consumption',
      currency: usage.currency,
      purpose: 'consumption',
    });
    ops.push({
      type: 'transfer',
      id: refundTransferId(requestId),
      debitAccountId: sink.id,
      creditAccountId: wallet.id,
      amount: refund,
      code: 'refund',
      userData: { requestId },
    });
  }
  if (reward > 0n && rewardCurrency !== undefined) {
    const pool = await account({
      ownerType: 'org',
      ownerId: usage.orgId,
      orgId: usage.orgId,
      currency: rewardCurrency,
      purpose: 'reward_pool',
    });
    const wallet = await account({
      ownerType: 'user',
      ownerId: usage.userId,
      orgId: usage.orgId,
      currency: rewardCurrency,
      purpose: 'wallet',
    });
    ops.push({
      type: 'transfer',
      id: rewardTransferId(requestId),
      debitAccountId: pool.id,
      creditAccountId: wallet.id,
      amount: reward,
      code: 'reward',
      userData: { requestId },
    });
  }
  return ops;
}
