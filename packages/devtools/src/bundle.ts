import { build, type Plugin } from 'esbuild';
import { readFile } from 'node:fs/promises';
import { pathToFileURL } from 'node:url';

/**
 * Tokenwise's own TypeScript compiled into one ES module per entry; every other package stays an
 * import resolved from node_modules at run time. A service run from its bundle needs no TypeScript
 * loader in the process (tsx's loader thread and transform caches take about 80 MB of memory).
 * Each source file keeps its own `import.meta.url`, so paths relative to it (the migrations) still
 * resolve: the bundle runs inside the checkout it was built from.
 */
const probe = Symbol('probe');

const workspaceSources: Plugin = {
  name: 'tokenwise-workspace-sources',
  setup(builder) {
    builder.onResolve({ filter: /^[^./]/ }, async (args) => {
      if (args.path.startsWith('@tokenwise/') || args.pluginData === probe) return undefined;
      const external = { path: args.path, external: true };
      // A deep import into a package without an exports map (`@temporalio/common/lib/encoding`) needs
      // the file's extension in an ES module; a bare or mapped import stays as written.
      const [, name, subpath] = /^((?:@[^/]+\/)?[^/]+)(?:\/(.+))?$/.exec(args.path) ?? [];
      if (
        name === undefined ||
        subpath === undefined ||
        /\.(c|m)?js$|\.json$/.test(subpath) ||
        args.path.startsWith('node:')
      )
        return external;
      const resolved = await builder.resolve(args.path, {
        kind: args.kind,
        resolveDir: args.resolveDir,
        pluginData: probe,
      });
      const packageDir = resolved.path.slice(
        0,
        resolved.path.lastIndexOf(`/node_modules/${name}/`) + `/node_modules/${name}/`.length,
      );
      const manifest = JSON.parse(await readFile(`${packageDir}package.json`, 'utf8')) as { exports?: unknown };
      if (manifest.exports !== undefined) return external;
      return { path: `${name}/${resolved.path.slice(packageDir.length)}`, external: true };
    });
    builder.onLoad({ filter: /\.ts$/ }, async (args) => ({
      contents: (await readFile(args.path, 'utf8')).replaceAll(
        'import.meta.url',
        JSON.stringify(pathToFileURL(args.path).href),
      ),
      loader: 'ts',
    }));
  },
};

/** Bundles `entries` (name -> source file) into `outdir` as `<name>.mjs`, with source maps. */
export async function bundleEntries(entries: Record<string, string>, outdir: string): Promise<void> {
  await build({
    entryPoints: entries,
    outdir,
    outExtension: { '.js': '.mjs' },
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    sourcemap: true,
    logLevel: 'error',
    plugins: [workspaceSources],
  });
}
