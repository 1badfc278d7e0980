import { ForbiddenError, ValidationError } from '@tokenwise/core';
import {
  currentScoringConfig,
  publishScoringConfig,
  scoringConfigHistory,
  scoringPluginsSchema,
  type ScoringConfig,
  type ScoringPlugin,
} from '@tokenwise/db';
import { TRPCError } from '@trpc/server';
import { z } from 'zod';
import type { ApiUser, Context, PluginRegistry } from '../context';
import { document, pageSize } from '../inputs';
import { pluginIdLengthMax, requestIdLengthMax } from '../limits';
import { configJsonSchema } from '../plugin-config-schema';
import { dryRunPlugin, pluginConfigIssues, pluginOf } from '../plugin-dry-run';
import { assertManagesTeam, hasRole, teamInOrg } from '../scope';
import { actorOf, authedProcedure, roleProcedure, router } from '../trpc';

function registryOf(ctx: Pick<Context, 'plugins'>): PluginRegistry {
  if (ctx.plugins === undefined) {
    throw new TRPCError({
      code: 'PRECONDITION_FAILED',
      message:
        'This API server was started without scoring plugins: start it with the settlement runtime’s plugin registry to list, configure or dry-run plugins.',
    });
  }
  return ctx.plugins;
}

/** A team's scoring configuration is readable by its members (its lead among them) and by admins. */
function assertMayReadScoringOf(user: ApiUser, teamId: string): void {
  if (user.teamId === teamId || hasRole(user, 'admin')) return;
  throw new ForbiddenError(`Only members of team ${teamId} and admins may read its scoring configuration.`);
}

/** Every entry's plugin must be loaded here and its config pass that plugin's schema; issues name the field. */
function assertPluginConfigs(registry: PluginRegistry, plugins: readonly ScoringPlugin[]): void {
  const issues = plugins.flatMap((entry, index) => {
    const field = `plugins.${index}`;
    try {
      return pluginConfigIssues(
        pluginOf(registry, entry.pluginId, `${field}.pluginId`),
        entry.config,
        `${field}.config`,
      );
    } catch (error) {
      if (error instanceof ValidationError) return (error.details.issues as string[] | undefined) ?? [error.message];
      throw error;
    }
  });
  if (issues.length > 0) throw new ValidationError(`Invalid scoring configuration: ${issues.join('; ')}.`, { issues });
}

const toOutput = (config: ScoringConfig) => ({
  teamId: config.teamId,
  version: config.version,
  plugins: config.plugins.map((plugin) => ({
    pluginId: plugin.pluginId,
    weight: plugin.weight,
    config: plugin.config,
  })),
  createdBy: config.createdBy,
  createdAt: config.createdAt.toISOString(),
});

export const pluginsRouter = router({
  /** The scoring plugins this server has loaded, with each config schema as JSON Schema; any signed-in user. */
  list: authedProcedure.query(({ ctx }) => {
    const { plugins } = registryOf(ctx);
    return [...plugins.values()]
      .sort((a, b) => a.id.localeCompare(b.id))
      .map((plugin) => ({
        id: plugin.id,
        version: plugin.version,
        sdkVersion: plugin.sdkVersion,
        evidenceWindowSeconds: plugin.evidenceWindowSeconds,
        pollIntervalSeconds: plugin.pollIntervalSeconds,
        configSchema: configJsonSchema(plugin.configSchema),
      }));
  }),

  /** The team's current scoring configuration (plugins, weights, configs), or null when none was published. */
  teamConfig: authedProcedure.input(z.object({ teamId: z.uuid() })).query(async ({ ctx, input }) => {
    const team = await teamInOrg(ctx.db, { teamId: input.teamId, orgId: ctx.user.orgId });
    assertMayReadScoringOf(ctx.user, team.id);
    const current = await currentScoringConfig(ctx.db, { teamId: team.id });
    return current === undefined ? null : toOutput(current);
  }),

  /** Every version of the team's scoring configuration, newest first. */
  teamConfigHistory: authedProcedure
    .input(z.object({ teamId: z.uuid(), limit: pageSize }))
    .query(async ({ ctx, input }) => {
      const team = await teamInOrg(ctx.db, { teamId: input.teamId, orgId: ctx.user.orgId });
      assertMayReadScoringOf(ctx.user, team.id);
      const rows = await scoringConfigHistory(ctx.db, { teamId: team.id, limit: input.limit });
      return rows.map(toOutput);
    }),

  /**
   * Publishes the team's next scoring configuration version (audited by the same DB function as the
   * CLI's `scoring set`): the lead of that team or an admin. Each config is checked with its plugin's
   * schema now, and again when it runs; requests settled from now on are scored with it.
   */
  setTeamConfig: roleProcedure('lead', 'admin')
    .input(z.object({ teamId: z.uuid(), plugins: scoringPluginsSchema }))
    .mutation(async ({ ctx, input }) => {
      const registry = registryOf(ctx);
      const team = await teamInOrg(ctx.db, { teamId: input.teamId, orgId: ctx.user.orgId });
      assertManagesTeam(ctx.user, team.id);
      const plugins = input.plugins as ScoringPlugin[];
      assertPluginConfigs(registry, plugins);
      return toOutput(await publishScoringConfig(ctx.db, { teamId: team.id, plugins, actor: actorOf(ctx.user) }));
    }),

  /**
   * Runs one plugin once on a past request, as settlement would, and returns its outcome (scored,
   * pending, not_applicable or error) without moving tokens or writing a settlement; audited as
   * `plugin.dry_run`. The lead of the request's team or an admin. `config` defaults to the team's
   * current config for that plugin. LLM calls the plugin makes (the judge's) are real usage,
   * charged to the caller's own wallet and never settled. At most dryRunsPerUserPerMinute per user
   * (TOO_MANY_REQUESTS says when to retry); only on requests the caller may read through `usage`.
   * Bounded by a timeout: a plugin that hangs comes back as an error outcome.
   */
  dryRun: roleProcedure('lead', 'admin')
    .input(
      z.object({
        requestId: z.string().min(1).max(requestIdLengthMax),
        pluginId: z.string().min(1).max(pluginIdLengthMax),
        config: document.optional(),
      }),
    )
    .mutation(async ({ ctx, input }) => {
      const registry = registryOf(ctx);
      return dryRunPlugin(ctx.db, registry, {
        user: ctx.user,
        actor: actorOf(ctx.user),
        requestId: input.requestId,
        pluginId: input.pluginId,
        config: input.config,
      });
    }),
});
