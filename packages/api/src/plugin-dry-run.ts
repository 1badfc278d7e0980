import { NotFoundError, ValidationError } from '@tokenwise/core';
import { currentScoringConfig, findScoringRequest, findUsageKeyMintedFor, writeAudit, type Db } from '@tokenwise/db';
import { runPluginSafely, scoreInputOf, type PluginDefinition, type PluginRunOutcome } from '@tokenwise/plugin-sdk';
import { TRPCError } from '@trpc/server';
import type { ApiUser, PluginRegistry } from './context';
import { dryRunsPerUserPerMinute, dryRunTimeoutMsDefault } from './limits';
import { createPerUserRateLimit, type PerUserRateLimit } from './per-user-rate-limit';
import { usageVisibleTo } from './scope';

/** Dry runs in flight per server: each may hold an LLM call open for up to the timeout. */
export const dryRunsInFlightMax = 4;
const inFlight = new WeakMap<PluginRegistry, number>();
const rateLimits = new WeakMap<PluginRegistry, PerUserRateLimit>();

/** Counts one dry run of the user; TOO_MANY_REQUESTS naming the limit and when to retry once they ran `dryRunsPerUserPerMinute` in the last minute. */
function takeDryRun(registry: PluginRegistry, userId: string): void {
  let limit = rateLimits.get(registry);
  if (limit === undefined) {
    limit = createPerUserRateLimit({ limit: dryRunsPerUserPerMinute, windowMs: 60_000, clock: registry.clock });
    rateLimits.set(registry, limit);
  }
  const taken = limit.take(userId);
  if (!taken.ok) {
    throw new TRPCError({
      code: 'TOO_MANY_REQUESTS',
      message: `Too many dry runs: at most ${dryRunsPerUserPerMinute} per minute per user (dryRunsPerUserPerMinute); retry after ${taken.retryAfterSeconds} s.`,
    });
  }
}

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

/**
 * The request, when the user may read it through `usage` (a lead their team's, an admin the org's):
 * a dry run shows the plugin's view of its stored prompt, so it is never shown to anyone else.
 * Refused: other orgs' and unreadable requests (NOT_FOUND, as usage.byId), system usage, and the LLM
 * calls of earlier dry runs, which quote the request they judged.
 */
async function requestFor(db: Db, user: ApiUser, requestId: string) {
  const visible = await findUsageKeyMintedFor(db, { scope: usageVisibleTo(user), requestId });
  const stored = visible === undefined ? undefined : await findScoringRequest(db, { requestId });
  if (stored === undefined || stored.orgId !== user.orgId)
    throw new NotFoundError(`No request ${requestId} that you may see.`);
  if (stored.system)
    throw new TRPCError({
      code: 'PRECONDITION_FAILED',
      message: `Request ${requestId} is system usage (a judge call), which is never scored.`,
    });
  if (visible?.mintedFor === 'plugin_dry_run')
    throw new TRPCError({
      code: 'PRECONDITION_FAILED',
      message: `Request ${requestId} is an LLM call of a plugin dry run, which is never scored.`,
    });
  return stored;
}

async function configFor(
  db: Db,
  plugin: PluginDefinition,
  teamId: string | null,
  config: unknown,
): Promise<{ config: unknown; source: DryRunResult['configSource'] }> {
  if (config !== undefined) {
    const issues = pluginConfigIssues(plugin, config, 'config');
    if (issues.length > 0)
      throw new ValidationError(`Invalid config of plugin "${plugin.id}": ${issues.join('; ')}.`, { issues });
    return { config, source: { kind: 'input' } };
  }
  const current = teamId === null ? undefined : await currentScoringConfig(db, { teamId });
  const entry = current?.plugins.find((item) => item.pluginId === plugin.id);
  if (current === undefined || entry === undefined) {
    throw new TRPCError({
      code: 'PRECONDITION_FAILED',
      message: `The request's team has no configuration for plugin "${plugin.id}": pass \`config\` to dry-run it with one.`,
    });
  }
  // Not checked here: a stored config the plugin now refuses comes back as an invalid_config outcome, as in settlement.
  return { config: entry.config, source: { kind: 'team', version: current.version } };
}

/**
 * Runs one plugin once on a past request as settlement would (same stored input, same config
 * validation inside runPluginSafely, a timeout) and records an audit row; moves no tokens itself and
 * writes no settlement. LLM calls the plugin makes are real usage of the calling user, charged to
 * their own wallet (never settled); at most `dryRunsPerUserPerMinute` dry runs per user.
 */
export async function dryRunPlugin(
  db: Db,
  registry: PluginRegistry,
  params: { user: ApiUser; actor: string; requestId: string; pluginId: string; config: unknown },
): Promise<DryRunResult> {
  const plugin = pluginOf(registry, params.pluginId, 'pluginId');
  const stored = await requestFor(db, params.user, params.requestId);
  const { config, source } = await configFor(db, plugin, stored.teamId, params.config);
  takeDryRun(registry, params.user.userId);
  const running = inFlight.get(registry) ?? 0;
  if (running >= dryRunsInFlightMax)
    throw new TRPCError({
      code: 'TOO_MANY_REQUESTS',
      message: `${running} dry runs are in flight on this server (at most ${dryRunsInFlightMax}): try again when one ends.`,
    });
  inFlight.set(registry, running + 1);
  const startedAt = performance.now();
  let outcome: PluginRunOutcome;
  try {
    // The caller's own org's secrets: a dry run reads nothing a settlement of that org could not.
    const ctx = await registry.contextFor(plugin.id, {
      kind: 'user',
      orgId: params.user.orgId,
      userId: params.user.userId,
    });
    outcome = await runPluginSafely(plugin, scoreInputOf(stored, config), ctx, {
      timeoutMs: registry.dryRunTimeoutMs ?? dryRunTimeoutMsDefault,
    });
  } finally {
    inFlight.set(registry, (inFlight.get(registry) ?? 1) - 1);
  }
  const durationMs = Math.round(performance.now() - startedAt);
  const after = {
    pluginId: plugin.id,
    pluginVersion: plugin.version,
    configSource: source,
    status: outcome.status,
    ...(outcome.status === 'error' ? { errorKind: outcome.error.kind } : {}),
    durationMs,
  };
  await writeAudit(db, {
    orgId: params.user.orgId,
    actor: params.actor,
    action: 'plugin.dry_run',
    entityType: 'request',
    entityId: stored.requestId,
    before: null,
    after,
  });
  return {
    requestId: stored.requestId,
    pluginId: plugin.id,
    pluginVersion: plugin.version,
    configSource: source,
    durationMs,
    outcome,
  };
}
