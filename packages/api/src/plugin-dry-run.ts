import { ForbiddenError, NotFoundError, ValidationError } from '@tokenwise/core';
import { currentScoringConfig, findScoringRequest, writeAudit, type Db } from '@tokenwise/db';
import { runPluginSafely, scoreInputOf, type PluginDefinition, type PluginRunOutcome } from '@tokenwise/plugin-sdk';
import { TRPCError } from '@trpc/server';
import type { ApiUser, PluginRegistry } from './context';
import { dryRunTimeoutMsDefault } from './limits';
import { hasRole } from './scope';

/** Dry runs in flight per server: each may hold an LLM call open for up to the timeout. */
export const dryRunsInFlightMax = 4;
const inFlight = new WeakMap<PluginRegistry, number>();

export interface DryRunResult {
  requestId: string;
  pluginId: string;
  pluginVersion: string;
  /** Where the config came from: the caller, or the team's scoring configuration (with its version). */
  configSource: { kind: 'input' } | { kind: 'team'; version: number };
  durationMs: number;
  outcome: PluginRunOutcome;
}

/** The plugin by id, or a validation error naming `pluginId` and the plugins this server has. */
export function pluginOf(registry: PluginRegistry, pluginId: string, field: string): PluginDefinition {
  const plugin = registry.plugins.get(pluginId);
  if (plugin !== undefined) return plugin;
  const issue = `${field}: unknown plugin "${pluginId}"; this server has ${[...registry.plugins.keys()].sort().join(', ') || 'none'}`;
  throw new ValidationError(`Invalid ${issue}.`, { issues: [issue] });
}

/** Each problem of `config` under the plugin's own schema, as `field: message` with `field` under `prefix`. */
export function pluginConfigIssues(plugin: PluginDefinition, config: unknown, prefix: string): string[] {
  const parsed = plugin.configSchema.safeParse(config);
  if (parsed.success) return [];
  return parsed.error.issues.map((issue) => `${[prefix, ...issue.path.map(String)].join('.')}: ${issue.message}`);
}

async function requestFor(db: Db, user: ApiUser, requestId: string) {
  const stored = await findScoringRequest(db, { requestId });
  if (stored === undefined || stored.orgId !== user.orgId) throw new NotFoundError(`No request ${requestId} in your org.`);
  if (!hasRole(user, 'admin') && (stored.teamId === null || stored.teamId !== user.teamId)) {
    throw new ForbiddenError(`Request ${requestId} is not of your team: a lead dry-runs plugins on their team's requests, an admin on the org's.`);
  }
  if (stored.system) throw new TRPCError({ code: 'PRECONDITION_FAILED', message: `Request ${requestId} is system usage (a judge call), which is never scored.` });
  return stored;
}

async function configFor(db: Db, plugin: PluginDefinition, teamId: string | null, config: unknown): Promise<{ config: unknown; source: DryRunResult['configSource'] }> {
  if (config !== undefined) {
    const issues = pluginConfigIssues(plugin, config, 'config');
    if (issues.length > 0) throw new ValidationError(`Invalid config of plugin "${plugin.id}": ${issues.join('; ')}.`, { issues });
    return { config, source: { kind: 'input' } };
  }
  const current = teamId === null ? undefined : await currentScoringConfig(db, { teamId });
  const entry = current?.plugins.find((item) => item.pluginId === plugin.id);
  if (current === undefined || entry === undefined) {
    throw new TRPCError({ code: 'PRECONDITION_FAILED', message: `The request's team has no configuration for plugin "${plugin.id}": pass \`config\` to dry-run it with one.` });
  }
  // Not checked here: a stored config the plugin now refuses comes back as an invalid_config outcome, as in settlement.
  return { config: entry.config, source: { kind: 'team', version: current.version } };
}

/**
 * Runs one plugin once on a past request as settlement would (same stored input, same config
 * validation inside runPluginSafely, a timeout) and records an audit row; moves no tokens and writes
 * no settlement. LLM calls the plugin makes are real usage, charged to the judge system account.
 */
export async function dryRunPlugin(db: Db, registry: PluginRegistry, params: { user: ApiUser; actor: string; requestId: string; pluginId: string; config: unknown }): Promise<DryRunResult> {
  const plugin = pluginOf(registry, params.pluginId, 'pluginId');
  const stored = await requestFor(db, params.user, params.requestId);
  const { config, source } = await configFor(db, plugin, stored.teamId, params.config);
  const running = inFlight.get(registry) ?? 0;
  if (running >= dryRunsInFlightMax) throw new TRPCError({ code: 'TOO_MANY_REQUESTS', message: `${running} dry runs are in flight on this server (at most ${dryRunsInFlightMax}): try again when one ends.` });
  inFlight.set(registry, running + 1);
  const startedAt = performance.now();
  let outcome: PluginRunOutcome;
  try {
    outcome = await runPluginSafely(plugin, scoreInputOf(stored, config), registry.contextFor(plugin.id, { kind: 'judge', orgId: stored.orgId }), { timeoutMs: registry.dryRunTimeoutMs ?? dryRunTimeoutMsDefault });
  } finally {
    inFlight.set(registry, (inFlight.get(registry) ?? 1) - 1);
  }
  const durationMs = Math.round(performance.now() - startedAt);
  const after = { pluginId: plugin.id, pluginVersion: plugin.version, configSource: source, status: outcome.status, ...(outcome.status === 'error' ? { errorKind: outcome.error.kind } : {}), durationMs };
  await writeAudit(db, { orgId: params.user.orgId, actor: params.actor, action: 'plugin.dry_run', entityType: 'request', entityId: stored.requestId, before: null, after });
  return { requestId: stored.requestId, pluginId: plugin.id, pluginVersion: plugin.version, configSource: source, durationMs, outcome };
}
