import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadPlugins } from './loader';

// Fixture plugins are plain .mjs modules outside the repository, so they cannot import the SDK or
// zod: each exports the shape definePlugin returns, with a structural stand-in for a zod schema.
const schemaStub = '{ parse: (v) => v, safeParse: (v) => ({ success: true, data: v }) }';
const pluginModule = (fields: string) =>
  `export default { id: 'good-one', version: '1.0.0', sdkVersion: '1.0.0', configSchema: ${schemaStub}, score: async () => ({ status: 'pending', reason: 'x' }), ${fields} };\n`;

async function writePackage(
  dir: string,
  name: string,
  source: string,
  manifest: Record<string, unknown> = { exports: { '.': './index.mjs' } },
): Promise<void> {
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'package.json'), JSON.stringify({ name, type: 'module', ...manifest }));
  await writeFile(join(dir, 'index.mjs'), source);
}

describe('loadPlugins', () => {
  let workspace: string;

  beforeAll(async () => {
    workspace = await mkdtemp(join(tmpdir(), 'tokenwise-plugins-'));
    const plugins = join(workspace, 'plugins');
    await writePackage(join(plugins, 'a-good'), '@x/a-good', pluginModule(''));
    await writePackage(join(plugins, 'b-bad-id'), '@x/b', pluginModule("id: 'Bad Id'"));
    await writePackage(join(plugins, 'c-future-sdk'), '@x/c', pluginModule("id: 'future', sdkVersion: '2.0.0'"));
    await writePackage(join(plugins, 'd-throws'), '@x/d', "throw new Error('top-level boom');\n");
    await writePackage(join(plugins, 'e-no-default'), '@x/e', 'export const plugin = 1;\n');
    await writePackage(join(plugins, 'f-duplicate'), '@x/f', pluginModule(''));
    await writePackage(join(plugins, 'g-hangs'), '@x/g', 'await new Promise(() => {});\nexport default {};\n');
    await writePackage(join(plugins, 'h-main-field'), '@x/h', pluginModule("id: 'via-main'"), { main: 'index.mjs' });
    await writePackage(join(plugins, 'i-escapes'), '@x/i', pluginModule(''), { exports: '../a-good/index.mjs' });
    await mkdir(join(plugins, 'j-no-manifest'));
    await writePackage(
      join(workspace, 'node_modules', '@acme', 'tokenwise-plugin-ab'),
      '@acme/tokenwise-plugin-ab',
      pluginModule("id: 'ab-test'"),
      {
        exports: { '.': { import: './index.mjs', require: './index.cjs' } },
      },
    );
  });
  afterAll(async () => {
    await rm(workspace, { recursive: true, force: true });
  });

  it('loads the good workspace plugins and reports every other one with a reason, never throwing', async () => {
    const { loaded, rejected } = await loadPlugins({ workspaceDir: workspace, allowNpm: false, importTimeoutMs: 300 });
    expect(loaded.map(({ source, plugin }) => [source, plugin.id])).toEqual([
      ['plugins/a-good', 'good-one'],
      ['plugins/h-main-field', 'via-main'],
    ]);
    expect(Object.isFrozen(loaded[0]?.plugin)).toBe(true);
    const reasons = Object.fromEntries(rejected.map(({ source, reason }) => [source, reason]));
    expect(reasons).toEqual({
      'plugins/b-bad-id': expect.stringMatching(/^invalid plugin shape: .*id: must be/),
      'plugins/c-future-sdk': expect.stringMatching(/^incompatible SDK: .*major versions differ/),
      'plugins/d-throws': expect.stringMatching(/^failed to import: top-level boom/),
      'plugins/e-no-default': expect.stringMatching(/^no default export/),
      'plugins/f-duplicate': 'plugin id "good-one" is already loaded from plugins/a-good',
      'plugins/g-hangs': 'failed to import: import did not finish within 300 ms',
      'plugins/i-escapes': expect.stringMatching(/points outside the package/),
      'plugins/j-no-manifest': expect.stringMatching(/^no readable package.json/),
    });
  });

  it('rejects npm plugins unless an admin allowed them', async () => {
    const { loaded, rejected } = await loadPlugins({
      workspaceDir: join(workspace, 'empty'),
      packageNames: ['@acme/tokenwise-plugin-ab'],
      allowNpm: false,
    });
    expect(loaded).toEqual([]);
    expect(rejected).toEqual([
      {
        source: 'npm:@acme/tokenwise-plugin-ab',
        reason: expect.stringMatching(/npm plugins are disabled: an admin must allow them/),
      },
    ]);
  });

  it('loads an allowed npm plugin by its import condition, and reports bad or missing names', async () => {
    const { loaded, rejected } = await loadPlugins({
      workspaceDir: join(workspace, 'empty'),
      packageNames: ['@acme/tokenwise-plugin-ab', '../../etc/passwd', 'not-installed-plugin'],
      allowNpm: true,
    });
    expect(loaded.map(({ source, plugin }) => [source, plugin.id])).toEqual([
      ['npm:@acme/tokenwise-plugin-ab', 'ab-test'],
    ]);
    expect(rejected).toEqual([
      { source: 'npm:../../etc/passwd', reason: '"../../etc/passwd" is not a valid npm package name' },
      { source: 'npm:not-installed-plugin', reason: expect.stringMatching(/is not installed/) },
    ]);
  });

  it('finds nothing, without error, when there is no plugins directory', async () => {
    expect(await loadPlugins({ workspaceDir: join(workspace, 'nowhere'), allowNpm: false })).toEqual({
      loaded: [],
      rejected: [],
    });
  });
});
