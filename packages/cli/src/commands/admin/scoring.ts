import { stringifyJson, NotFoundError, ValidationError } from '@tokenwise/core';
import { currentScoringConfig, publishScoringConfig, scoringPluginsSchema, type ScoringPlugin } from '@tokenwise/db';
import { loadPlugins, parsePluginConfig, type LoadPluginsResult } from '@tokenwise/plugin-sdk';
import { fileURLToPath } from 'node:url';
import type { AdminCommandSpecs } from './admin-command';
import { readJsonFile, settlementFileBytesMax } from './json-file';
import { teamOf, teamOptions } from './lookups';
import { fileOption, text } from './option-values';

/** The workspace root, where plugins/* live: configs are checked against the plugins the worker loads. */
const workspaceDir = fileURLToPath(new URL('../../../../../', import.meta.url));
let workspacePlugins: Promise<LoadPluginsResult> | undefined;

/** Loaded once per process: importing a plugin runs its code, and plugins only change with a restart. */
function loadWorkspacePlugins(): Promise<LoadPluginsResult> {
  workspacePlugins ??= loadPlugins({ workspaceDir, allowNpm: false });
  return workspacePlugins;
}

/**
 * Checks a scoring file: its shape (ids, weights, count), then each plugin's config with that
 * plugin's own schema, so a config the worker would refuse is refused now, naming plugin and field.
 */
async function checkScoringPlugins(body: unknown): Promise<ScoringPlugin[]> {
  const parsed = scoringPluginsSchema.safeParse(body);
  if (!parsed.success) {
    const issues = parsed.error.issues.map(
      (issue) => `${issue.path.join('.') || 'scoring configuration'}: ${issue.message}`,
    );
    throw new ValidationError(
      `Invalid scoring configuration (a JSON array of { pluginId, weight, config }): ${issues.join('; ')}.`,
      { issues },
    );
  }
  const { loaded, rejected } = await loadWorkspacePlugins();
  const plugins = new Map(loaded.map(({ plugin }) => [plugin.id, plugin]));
  parsed.data.forEach((entry, index) => {
    const plugin = plugins.get(entry.pluginId);
    if (plugin === undefined) {
      const known = [...plugins.keys()].sort().join(', ') || 'none';
      const broken =
        rejected.length === 0
          ? ''
          : ` (left out: ${rejected.map((item) => `${item.source}: ${item.reason}`).join('; ')})`;
      throw new ValidationError(
        `Unknown plugin "${entry.pluginId}" at ${index}.pluginId: loaded plugins are ${known}${broken}.`,
      );
    }
    parsePluginConfig(plugin, entry.config);
  });
  return parsed.data as ScoringPlugin[];
}

function describeScoringPlugins(plugins: readonly ScoringPlugin[]): string {
  if (plugins.length === 0) return '(no plugins: requests of this team are not scored)';
  return plugins
    .map((plugin) => `${plugin.pluginId}  weight ${plugin.weight}  config ${stringifyJson(plugin.config)}`)
    .join('\n  ');
}

/** `scoring ...`: which plugins score a team's requests, and how much each weighs. */
export const scoringCommands: AdminCommandSpecs = {
  'scoring set': {
    summary:
      "set a team's scoring plugins ([{ pluginId, weight, config }], each config checked by its plugin's schema), stored as its next version",
    options: [...teamOptions, fileOption('scoring configuration')],
    async run({ database }, options, actor) {
      const { team, label } = await teamOf(database.db, options);
      const file = text(options, 'file');
      const plugins = await checkScoringPlugins(
        await readJsonFile(file, 'scoring configuration', settlementFileBytesMax),
      );
      const published = await publishScoringConfig(database.db, { teamId: team.id, plugins, actor });
      return {
        text: `Published scoring configuration version ${published.version} for ${label} from ${file}:\n  ${describeScoringPlugins(published.plugins)}\nRequests settled from now on are scored with it.`,
        data: published,
      };
    },
  },

  'scoring show': {
    summary: "the team's current scoring plugins, weights and configs",
    options: [...teamOptions],
    async run({ database }, options) {
      const { org, team, label } = await teamOf(database.db, options);
      const current = await currentScoringConfig(database.db, { teamId: team.id });
      if (current === undefined)
        throw new NotFoundError(
          `No scoring configuration for ${label} yet: set one with \`tokenwise scoring set --org ${org.slug} --team ${team.slug} --file scoring.json\`.`,
        );
      return {
        text: `Scoring configuration version ${current.version} of ${label}, by ${current.createdBy} at ${current.createdAt.toISOString()}:\n  ${describeScoringPlugins(current.plugins)}`,
        data: current,
      };
    },
  },
};
