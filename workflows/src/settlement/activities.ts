import {
  decideSettlement,
  fromJsonValue,
  monthlyPeriod,
  settlementBoundsSchema,
  settlementPolicySchema,
} from '@tokenwise/core';
import {
  findScoringRequest,
  findSettlementGate,
  findSettlementInputs,
  findSettlementRecord,
  findUsageRecord,
  insertNotification,
  insertSettlementIfAbsent,
  indexEvidenceKeys,
  type Db,
  type SettlementRecord,
} from '@tokenwise/db';
import { notifications, settlements } from '@tokenwise/db/schema';
import { createAccountLookup, type Ledger, type LedgerOp } from '@tokenwise/ledger';
import {
  runPluginSafely,
  scoreInputOf,
  type LlmPayer,
  type PluginContext,
  type PluginDefinition,
} from '@tokenwise/plugin-sdk';
import { boundReward, isTakenByAnotherSettlement } from './bound-reward';
import { judgeBudgetExhaustedReason, watchJudgeBudget } from './judge-budget';
import { runWithHeartbeats } from './run-with-heartbeats';
import { settlementOps } from './settlement-ops';
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
   * charged to `payer`, the judge wallet of the org whose request is scored; its secrets are that org's.
   */
  contextFor: (pluginId: string, payer: LlmPayer) => PluginContext | Promise<PluginContext>;
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

/** Activities of `settleUsage`; the worker injects real dependencies, tests their own. */
export function createSettlementActivities(deps: SettlementDeps) {
  // Accounts never change once opened: each is looked up (or opened) once per worker.
  const account = createAccountLookup((key) => deps.ledger.ensureAccount(key));
  return {
    /** Whether and how to settle: the usage must exist, be charged, not be system usage, not be settled yet. */
    async loadSettlementContext(input: { requestId: string }): Promise<SettlementContext> {
      const usage = await findSettlementGate(deps.db, { requestId: input.requestId });
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
      const usage = await findUsageRecord(deps.db, { requestId: input.requestId });
      if (usage === undefined) return;
      await insertSettlementIfAbsent(deps.db, {
        row: {
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
        },
      });
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
      const base = await deps.contextFor(plugin.id, { kind: 'judge', orgId: stored.orgId });
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
      if (outcome.status === 'pending' && outcome.evidenceKeys !== undefined && outcome.evidenceKeys.length > 0) {
        // The keys go to the index, not into the workflow's history: they may be thousands.
        await indexEvidenceKeys(deps.db, {
          orgId: stored.orgId,
          pluginId: plugin.id,
          requestId: stored.requestId,
          requestCreatedAt: stored.createdAt,
          expiresAt: new Date(stored.createdAt.getTime() + plugin.evidenceWindowSeconds * 1000),
          keys: outcome.evidenceKeys,
        });
      }
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
      const found = await findSettlementInputs(deps.db, { requestId: input.requestId });
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
          await insertSettlementIfAbsent(deps.db, { row });
          await insertNotification(deps.db, { row: notification });
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

function recordedResult(recorded: SettlementRecord): SettlementResult {
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
  const recorded = await findSettlementRecord(db, { requestId });
  return recorded === undefined ? undefined : recordedResult(recorded);
}
