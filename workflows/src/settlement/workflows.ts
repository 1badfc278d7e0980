import {
  condition,
  patched,
  proxyActivities,
  proxyLocalActivities,
  setHandler,
  sleep,
  workflowInfo,
} from '@temporalio/workflow';
import { aggregateScores } from '@tokenwise/core';
import type { createSettlementActivities } from './activities';
import { EvidenceBook } from './external-evidence';
import { externalEvidenceSignal, settlementStateQuery, type SettlementState } from './queries';
import type { ConfiguredPlugin, PluginOutcomeRecord, SettlementResult } from './types';

// Cheap database steps run as local activities: no round trip through the server per step.
const { loadSettlementContext, applySettlement, recordSkippedSettlement } = proxyLocalActivities<
  ReturnType<typeof createSettlementActivities>
>({
  startToCloseTimeout: '30 seconds',
  localRetryThreshold: '10 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 20 },
});

// A plugin is slow and fallible: its own timeout, and few retries (runPlugin turns throws into results).
const { runPlugin } = proxyActivities<ReturnType<typeof createSettlementActivities>>({
  startToCloseTimeout: '5 minutes',
  heartbeatTimeout: '30 seconds',
  retry: { initialInterval: '2 seconds', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 3 },
});

// Since the patch below, the same plugin run as a local activity: the settlement is one workflow
// task instead of two plus an activity task, which halves the Temporal server's work per request.
// A worker that dies mid-plugin loses its workflow task, and the next worker runs the plugin again.
const { runPlugin: runPluginLocally } = proxyLocalActivities<ReturnType<typeof createSettlementActivities>>({
  startToCloseTimeout: '5 minutes',
  localRetryThreshold: '10 seconds',
  retry: { initialInterval: '2 seconds', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 3 },
});

/** Settlements started after this patch run plugins as local activities; older ones replay their activity tasks. */
export const localPluginsPatch = 'plugins-as-local-activities';

type RunPlugin = typeof runPlugin;

/** Polls of one pending plugin, at most: bounds history whatever the window and interval. */
export const pluginPollsMax = 200;

/**
 * Settlements started after this patch wake a waiting plugin as soon as evidence arrives for it and
 * close its window exactly at its end; older ones replay their plain poll timers unchanged.
 */
export const externalEvidencePatch = 'external-evidence-signal';

async function scoreWithPlugin(
  requestId: string,
  plugin: ConfiguredPlugin,
  book: EvidenceBook,
  run: RunPlugin,
): Promise<PluginOutcomeRecord> {
  const outcome = await pollPlugin(requestId, plugin, book, run);
  book.finish(plugin.pluginId, outcome.status);
  return outcome;
}

async function pollPlugin(
  requestId: string,
  plugin: ConfiguredPlugin,
  book: EvidenceBook,
  run: RunPlugin,
): Promise<PluginOutcomeRecord> {
  const deadline = Date.now() + plugin.evidenceWindowSeconds * 1000;
  const pollMs = plugin.pollIntervalSeconds * 1000;
  let attempts = 0;
  for (;;) {
    attempts++;
    const externalEvidence = book.forPlugin(plugin.pluginId);
    let outcome: PluginOutcomeRecord;
    try {
      outcome = {
        ...(await run({ requestId, pluginId: plugin.pluginId, config: plugin.config, externalEvidence })),
        weight: plugin.weight,
        attempts,
      };
    } catch (error) {
      // Even after its retries a plugin never blocks the settlement: it is recorded and left out.
      return {
        pluginId: plugin.pluginId,
        weight: plugin.weight,
        status: 'error',
        reason: (error as Error).message.slice(0, 500),
        attempts,
      };
    }
    if (outcome.status !== 'pending') return outcome;
    const wakesOnEvidence = patched(externalEvidencePatch);
    const windowClosed = wakesOnEvidence ? Date.now() >= deadline : Date.now() + pollMs > deadline;
    if (attempts >= pluginPollsMax || windowClosed) {
      return {
        ...outcome,
        status: 'not_applicable',
        reason: `still pending when its evidence window closed (${plugin.evidenceWindowSeconds} s)`,
      };
    }
    // A durable timer: a worker restart resumes here, no polling thread is held. Evidence that
    // arrived since this poll started (even while it ran) ends the wait at once.
    if (wakesOnEvidence)
      await condition(
        () => book.countFor(plugin.pluginId) > externalEvidence.length,
        Math.min(pollMs, deadline - Date.now()),
      );
    else await sleep(pollMs);
  }
}

/**
 * Settles one charged request: asks the team's plugins what the output was worth, aggregates a
 * value score, and refunds or rewards under the policy version pinned at admission. Exactly-once
 * effect comes from the transfer ids, not from Temporal alone.
 */
export async function settleUsage(input: { requestId: string }): Promise<SettlementResult> {
  const book = new EvidenceBook();
  const state: SettlementState = { requestId: input.requestId, phase: 'loading', outcomes: [], evidence: book.state };
  setHandler(settlementStateQuery, () => state);
  setHandler(externalEvidenceSignal, (evidence) => book.deliver(evidence, new Date().toISOString()));
  const context = await loadSettlementContext({ requestId: input.requestId });
  if (!context.settle) {
    book.close(`the settlement was skipped: ${context.reason}`);
    if (context.recordSkip) await recordSkippedSettlement({ requestId: input.requestId, reason: context.reason });
    state.phase = 'done';
    state.result = { status: 'skipped', reason: context.reason };
    return state.result;
  }
  state.phase = 'scoring';
  book.open(context.plugins.map((plugin) => plugin.pluginId));
  const run = patched(localPluginsPatch) ? runPluginLocally : runPlugin;
  state.outcomes = await Promise.all(
    context.plugins.map((plugin) => scoreWithPlugin(input.requestId, plugin, book, run)),
  );
  book.close('scoring had already finished when this evidence arrived');
  const aggregate = aggregateScores(state.outcomes);
  state.phase = 'settling';
  state.result = await applySettlement({
    requestId: input.requestId,
    outcomes: state.outcomes,
    score: aggregate.score,
    confidence: aggregate.confidence,
    workflowId: workflowInfo().workflowId,
  });
  state.phase = 'done';
  return state.result;
}
