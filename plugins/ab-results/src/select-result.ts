import { abEvidencePayloadSchema, abResultsPluginId, type AbEvidencePayload } from '@tokenwise/core';
import type { ExternalEvidence, RequestExperiment } from '@tokenwise/plugin-sdk';

/** Characters of one reason an evidence entry was ignored, as the evidence records it. */
export const ignoredReasonCharsMax = 300;

/** An evidence entry that cannot be read as a result for this request, and why. */
export interface IgnoredEvidence {
  readonly evidenceId: string;
  readonly reason: string;
}

/** A result that applies to this request: its experiment and variant, the decision metric, inside the window. */
export interface UsableResult {
  readonly evidenceId: string;
  readonly observedAt: string;
  readonly payload: AbEvidencePayload;
}

export interface Selection {
  /** The latest usable result by `observedAt`; a result is a cumulative snapshot, so it supersedes older ones. */
  readonly latest: UsableResult | undefined;
  readonly ignored: readonly IgnoredEvidence[];
}

export interface SelectionRules {
  readonly experiment: RequestExperiment;
  readonly controlKey: string;
  readonly decisionMetric: string | undefined;
  /** Results observed after this instant are too late for this request. */
  readonly windowEndMs: number;
  readonly windowDays: number;
}

interface Candidate extends UsableResult {
  readonly observedAtMs: number;
}

/**
 * Picks the result to score from the evidence the settlement received. Everything else is kept
 * with its reason, for the rationale: a payload that is not an A/B result, another experiment or
 * variant than the request's tag, a missing control, another metric than the decision metric.
 */
export function selectResult(evidence: readonly ExternalEvidence[], rules: SelectionRules): Selection {
  const ignored: IgnoredEvidence[] = [];
  const candidates: Candidate[] = [];
  for (const entry of evidence) {
    const read = readEntry(entry, rules);
    if ('reason' in read)
      ignored.push({ evidenceId: entry.evidenceId, reason: read.reason.slice(0, ignoredReasonCharsMax) });
    else candidates.push(read);
  }
  const usable = onDecisionMetric(candidates, rules, ignored);
  // Latest observation wins; on a tie the later delivery does (it is the platform's correction).
  const latest = usable.reduce<Candidate | undefined>(
    (best, candidate) => (best === undefined || candidate.observedAtMs >= best.observedAtMs ? candidate : best),
    undefined,
  );
  return {
    latest:
      latest === undefined
        ? undefined
        : { evidenceId: latest.evidenceId, observedAt: latest.observedAt, payload: latest.payload },
    ignored,
  };
}

function readEntry(entry: ExternalEvidence, rules: SelectionRules): Candidate | { reason: string } {
  if (entry.pluginId !== abResultsPluginId) return { reason: `sent to plugin "${entry.pluginId}"` };
  const observedAtMs = Date.parse(entry.observedAt);
  if (Number.isNaN(observedAtMs)) return { reason: 'observedAt is not a timestamp' };
  const parsed = abEvidencePayloadSchema.safeParse(entry.payload);
  if (!parsed.success) {
    const issues = parsed.error.issues
      .slice(0, 3)
      .map((issue) => `${issue.path.join('.') || 'payload'}: ${issue.message}`);
    return { reason: `not an A/B result (${issues.join('; ')})` };
  }
  const payload = parsed.data;
  const { experimentKey, variantKey } = rules.experiment;
  if (payload.experimentKey !== experimentKey)
    return { reason: `about experiment "${payload.experimentKey}", not the request's "${experimentKey}"` };
  if (payload.variantKey !== variantKey)
    return { reason: `about variant "${payload.variantKey}", not the request's "${variantKey}"` };
  const keys = payload.variations.map((variation) => variation.key);
  if (!keys.includes(rules.controlKey))
    return {
      reason: `has no variation "${rules.controlKey}" (the configured control); its variations: ${keys.join(', ')}`,
    };
  if (!keys.includes(variantKey)) return { reason: `has no variation "${variantKey}", the request's variant` };
  const weighted = payload.variations.filter((variation) => variation.weight !== undefined).length;
  if (weighted !== 0 && weighted !== keys.length)
    return { reason: 'gives weights to some variations only: the expected split is unknown' };
  if (rules.decisionMetric !== undefined && payload.metricId !== rules.decisionMetric)
    return { reason: `about metric "${payload.metricId}", not the decision metric "${rules.decisionMetric}"` };
  if (observedAtMs > rules.windowEndMs)
    return { reason: `observed ${entry.observedAt}, after the ${rules.windowDays}-day evidence window` };
  return { evidenceId: entry.evidenceId, observedAt: entry.observedAt, observedAtMs, payload };
}

/** Without a configured decision metric a result decides only while its metric is the only one seen. */
function onDecisionMetric(candidates: Candidate[], rules: SelectionRules, ignored: IgnoredEvidence[]): Candidate[] {
  if (rules.decisionMetric !== undefined) return candidates;
  const metrics = [...new Set(candidates.map((candidate) => candidate.payload.metricId))];
  if (metrics.length <= 1) return candidates;
  const reason =
    `several metrics seen for experiment "${rules.experiment.experimentKey}" (${metrics.join(', ')}) ` +
    'and no decisionMetric configured for it: set one in the ab-results config';
  for (const candidate of candidates)
    ignored.push({ evidenceId: candidate.evidenceId, reason: reason.slice(0, ignoredReasonCharsMax) });
  return [];
}
