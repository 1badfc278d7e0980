import { abResultsPluginId } from '@tokenwise/core';
import {
  definePlugin,
  type PluginContext,
  type ScoreInput,
  type ScoreResult,
  type JsonObject,
  rationaleCharsMax,
  reasonCharsMax,
} from '@tokenwise/plugin-sdk';
import { abResultsConfigSchema, experimentConfigFor, evidenceWindowDaysMax, type AbResultsConfig } from './config';
import { judgeResult } from './judge-result';
import { selectResult, type IgnoredEvidence } from './select-result';

export const abResultsVersion = '0.1.0';

const dayMs = 24 * 60 * 60 * 1000;

/**
 * A request tagged `x-tokenwise-experiment: <experiment>:<variant>` earns what its variant earned
 * in the experiment: the chance to win (or 1 - one-sided p-value) of the latest result the
 * experiments relay sent for it. The tag is the client's word; the relay checks assignment, dates
 * and self-submission, and this plugin refuses results with a sample-ratio mismatch.
 */
export const abResults = definePlugin<AbResultsConfig>({
  id: abResultsPluginId,
  version: abResultsVersion,
  configSchema: abResultsConfigSchema,
  evidenceWindowSeconds: (evidenceWindowDaysMax * dayMs) / 1000,
  // Results wake the settlement by signal; the daily poll only notices a team's shorter window closing.
  pollIntervalSeconds: 24 * 60 * 60,
  score: scoreAbResult,
});

// The host refuses longer reasons and rationales; the ignored list is what grows, so it is cut last.
const clip = (text: string, charsMax: number): string =>
  text.length <= charsMax ? text : `${text.slice(0, charsMax - 1)}…`;

async function scoreAbResult(input: ScoreInput<AbResultsConfig>, ctx: PluginContext): Promise<ScoreResult> {
  const result = await readAbResult(input, ctx);
  if (result.status === 'scored') return { ...result, rationale: clip(result.rationale, rationaleCharsMax) };
  return { ...result, reason: clip(result.reason, reasonCharsMax) };
}

async function readAbResult(input: ScoreInput<AbResultsConfig>, ctx: PluginContext): Promise<ScoreResult> {
  const tag = input.experiment;
  if (tag === undefined)
    return { status: 'not_applicable', reason: 'The request has no experiment tag (x-tokenwise-experiment).' };
  const config = experimentConfigFor(input.config, tag.experimentKey);
  const experiment = `experiment "${tag.experimentKey}"`;
  if (tag.variantKey === config.controlKey)
    return {
      status: 'not_applicable',
      reason: `Control requests earn nothing: "${tag.variantKey}" is the control of ${experiment}.`,
    };
  const windowDays = input.config.evidenceWindowDays;
  const windowEndMs = input.createdAt.getTime() + windowDays * dayMs;
  const windowOpen = ctx.clock.now().getTime() < windowEndMs;
  const selection = selectResult(input.externalEvidence ?? [], {
    experiment: tag,
    controlKey: config.controlKey,
    decisionMetric: config.decisionMetric,
    windowEndMs,
    windowDays,
  });
  const ignoredNote = ignoredSummary(selection.ignored);
  const latest = selection.latest;
  if (latest === undefined) {
    const waiting = `No usable result of ${experiment} for variant "${tag.variantKey}"`;
    return windowOpen
      ? { status: 'pending', reason: `${waiting} yet.${ignoredNote}` }
      : { status: 'not_applicable', reason: `${waiting} within the ${windowDays}-day window.${ignoredNote}` };
  }
  const { eligibility } = latest.payload;
  const about = `result ${latest.payload.resultId} of ${experiment}`;
  if (eligibility.selfSubmitted)
    return {
      status: 'not_applicable',
      reason: `self-submitted: every tagged request of ${experiment} was made by keys of the user behind the service key that submitted ${about}, so it scores nothing.`,
    };
  if (!eligibility.assigned)
    return {
      status: 'not_applicable',
      reason: `Not assigned: the request's user is not in the assignments of variant "${tag.variantKey}" sent with ${about}.`,
    };
  if (!eligibility.duringExperiment)
    return {
      status: 'not_applicable',
      reason: `Outside the experiment: the request was not made between the start and end dates of ${about}.`,
    };
  const judgement = judgeResult(latest.payload, config);
  if (judgement.kind === 'refused') {
    const reason = `${about} refused as evidence: ${judgement.reason}.${ignoredNote}`;
    return windowOpen
      ? { status: 'pending', reason: `${reason} Waiting for a corrected result.` }
      : { status: 'not_applicable', reason };
  }
  const evidence: JsonObject = {
    evidenceId: latest.evidenceId,
    observedAt: latest.observedAt,
    ...judgement.facts,
    ignored: selection.ignored.map((entry) => ({ ...entry })),
  };
  return {
    status: 'scored',
    score: judgement.score,
    confidence: judgement.confidence,
    evidence,
    rationale: `${about}, metric "${latest.payload.metricId}", variant "${tag.variantKey}" against "${config.controlKey}": ${judgement.rationale}${ignoredNote}`,
  };
}

function ignoredSummary(ignored: readonly IgnoredEvidence[]): string {
  if (ignored.length === 0) return '';
  const listed = ignored.map((entry) => `${entry.evidenceId}: ${entry.reason}`).join('; ');
  return ` Ignored: ${listed}.`;
}
