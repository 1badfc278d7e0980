import { access, readFile, readdir } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import { pathToFileURL } from 'node:url';
import { type PluginDefinition, definePlugin } from './define-plugin';
import { sdkIncompatibility } from './version';

export interface LoadPluginsOptions {
  /** The repository root: plugins load from `<workspaceDir>/plugins/*` and npm packages resolve from its node_modules. */
  readonly workspaceDir: string;
  /** npm packages named in configuration, each default-exporting a plugin. */
  readonly packageNames?: readonly string[];
  /** An admin's decision: installing and importing an npm plugin runs its code. Without it npm plugins are rejected. */
  readonly allowNpm: boolean;
  /** A module that does not finish importing within this is rejected (its top-level code may still run). */
  readonly importTimeoutMs?: number;
}

export interface LoadedPlugin {
  /** Where it came from: `plugins/<dir>` or `npm:<package>`. */
  readonly source: string;
  readonly plugin: PluginDefinition;
}

export interface RejectedPlugin {
  readonly source: string;
  readonly reason: string;
}

export interface LoadPluginsResult {
  readonly loaded: readonly LoadedPlugin[];
  readonly rejected: readonly RejectedPlugin[];
}

export const pluginDirsMax = 200;
export const importTimeoutMsDefault = 10_000;

// npm's rules for a package name, which also rules out paths such as ../x.
const npmNamePattern = /^(?:@[a-z0-9][a-z0-9._~-]*\/)?[a-z0-9][a-z0-9._~-]*$/;

type Candidate = { source: string; entry: string } | RejectedPlugin;

/**
 * Imports the default export of every `plugins/*` workspace package and of each named npm package
 * (only when allowNpm). A plugin with an invalid shape, an incompatible SDK, a duplicate id or a
 * module that fails to import is reported in `rejected` and left out; this never throws for a plugin.
 */
export async function loadPlugins(options: LoadPluginsOptions): Promise<LoadPluginsResult> {
  const timeoutMs = options.importTimeoutMs ?? importTimeoutMsDefault;
  const candidates = [...(await workspaceCandidates(options.workspaceDir)), ...(await npmCandidates(options))];
  const loaded: LoadedPlugin[] = [];
  const rejected: RejectedPlugin[] = [];
  for (const candidate of candidates) {
    if ('reason' in candidate) {
      rejected.push(candidate);
      continue;
    }
    const outcome = await importPlugin(candidate.entry, timeoutMs);
    if (typeof outcome === 'string') {
      rejected.push({ source: candidate.source, reason: outcome });
      continue;
    }
    const clash = loaded.find((other) => other.plugin.id === outcome.id);
    if (clash !== undefined) {
      rejected.push({
        source: candidate.source,
        reason: `plugin id "${outcome.id}" is already loaded from ${clash.source}`,
      });
      continue;
    }
    loaded.push({ source: candidate.source, plugin: outcome });
  }
  return { loaded, rejected };
}

async function workspaceCandidates(workspaceDir: string): Promise<Candidate[]> {
  const pluginsDir = resolve(workspaceDir, 'plugins');
  let entries;
  try {
    entries = await readdir(pluginsDir, { withFileTypes: true });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  const dirs = entries
    .filter((entry) => entry.isDirectory() && !entry.name.startsWith('.'))
    .map((entry) => entry.name)
    .sort();
  const candidates: Candidate[] = dirs
    .slice(0, pluginDirsMax)
    .map((name) => ({ source: `plugins/${name}`, entry: join(pluginsDir, name) }));
  for (const name of dirs.slice(pluginDirsMax))
    candidates.push({ source: `plugins/${name}`, reason: `more than ${pluginDirsMax} plugin directories` });
  return Promise.all(
    candidates.map(async (candidate) =>
      'reason' in candidate ? candidate : packageEntry(candidate.source, candidate.entry),
    ),
  );
}

async function npmCandidates(options: LoadPluginsOptions): Promise<Candidate[]> {
  const names = options.packageNames ?? [];
  return Promise.all(
    names.map(async (name): Promise<Candidate> => {
      const source = `npm:${name}`;
      if (!options.allowNpm)
        return {
          source,
          reason: 'npm plugins are disabled: an admin must allow them, since installing and loading one runs its code',
        };
      if (!npmNamePattern.test(name) || name.length > 214)
        return { source, reason: `"${name}" is not a valid npm package name` };
      const dir = await findPackageDir(options.workspaceDir, name);
      if (dir === undefined)
        return { source, reason: `package "${name}" is not installed under ${options.workspaceDir}; install it first` };
      return packageEntry(source, dir);
    }),
  );
}

async function findPackageDir(fromDir: string, name: string): Promise<string | undefined> {
  let dir = resolve(fromDir);
  for (let depth = 0; depth < 64; depth++) {
    const candidate = join(dir, 'node_modules', ...name.split('/'));
    if (await exists(join(candidate, 'package.json'))) return candidate;
    const parent = dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
  return undefined;
}

/** The ESM entry of a package: exports "." (string, or its import/default condition), else main, else index.js. */
async function packageEntry(source: string, dir: string): Promise<Candidate> {
  let manifest: { exports?: unknown; main?: unknown };
  try {
    manifest = (await readJson(join(dir, 'package.json'))) as typeof manifest;
  } catch (error) {
    return { source, reason: `no readable package.json: ${(error as Error).message}` };
  }
  const relative = exportEntry(manifest.exports) ?? (typeof manifest.main === 'string' ? manifest.main : 'index.js');
  const entry = resolve(dir, relative);
  if (!entry.startsWith(dir + sep)) return { source, reason: `entry "${relative}" points outside the package` };
  return { source, entry };
}

function exportEntry(exports: unknown): string | undefined {
  if (typeof exports === 'string') return exports;
  if (typeof exports !== 'object' || exports === null) return undefined;
  const record = exports as Record<string, unknown>;
  const root = '.' in record ? record['.'] : record;
  if (typeof root === 'string') return root;
  if (typeof root === 'object' && root !== null) {
    const conditions = root as Record<string, unknown>;
    for (const key of ['import', 'default']) if (typeof conditions[key] === 'string') return conditions[key];
  }
  return undefined;
}

async function importPlugin(entry: string, timeoutMs: number): Promise<PluginDefinition | string> {
  let module: { default?: unknown };
  let timer: NodeJS.Timeout | undefined;
  try {
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`import did not finish within ${timeoutMs} ms`)), timeoutMs);
    });
    module = (await Promise.race([import(pathToFileURL(entry).href), timeout])) as { default?: unknown };
  } catch (error) {
    return `failed to import: ${(error as Error)?.message ?? String(error)}`;
  } finally {
    clearTimeout(timer);
  }
  if (module.default === undefined) return 'no default export; export default definePlugin({...})';
  let plugin: PluginDefinition;
  try {
    // Re-validated here: the module may not have used this copy of definePlugin.
    plugin = definePlugin(module.default as PluginDefinition);
  } catch (error) {
    return `invalid plugin shape: ${(error as Error).message}`;
  }
  const incompatible = sdkIncompatibility(plugin.sdkVersion);
  return incompatible === undefined ? plugin : `incompatible SDK: ${incompatible}`;
}

async function readJson(path: string): Promise<unknown> {
  return JSON.parse(await readFile(path, 'utf8')) as unknown;
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}
