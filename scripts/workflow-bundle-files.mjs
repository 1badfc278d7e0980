// The source files Temporal's worker bundles into the workflow sandbox: everything reachable by
// value imports from the bundle's entries (workflows.ts and the payload converter), across
// workspace packages. The lint rule that keeps Node built-ins out of the sandbox covers exactly
// these, so a helper a workflow imports (queries, evidence books, core) is checked too.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';

/** Value imports and re-exports; `import type` / `export type` are erased and never bundled. */
const fromClause = /(?:^|\n)\s*(?:import|export)\s+(?!type\s)([^;=()]*?)\s*from\s*['"]([^'"]+)['"]/g;
const sideEffect = /(?:^|\n)\s*import\s*['"]([^'"]+)['"]/g;
/** Files one walk reads at most: a guard against a resolver loop, far above the tree's size. */
const filesMax = 5_000;

function workspacePackages(root) {
  const packages = new Map();
  for (const dir of ['packages', 'plugins']) {
    const parent = join(root, dir);
    if (!existsSync(parent)) continue;
    for (const name of readdirSync(parent)) {
      const manifest = join(parent, name, 'package.json');
      if (existsSync(manifest)) packages.set(JSON.parse(readFileSync(manifest, 'utf8')).name, join(parent, name));
    }
  }
  const workflows = join(root, 'workflows', 'package.json');
  if (existsSync(workflows)) packages.set(JSON.parse(readFileSync(workflows, 'utf8')).name, join(root, 'workflows'));
  return packages;
}

function resolveFile(base) {
  for (const candidate of [base, `${base}.ts`, join(base, 'index.ts')]) {
    if (candidate.endsWith('.ts') && existsSync(candidate)) return candidate;
  }
  return undefined;
}

function resolveImport(specifier, fromFile, packages) {
  if (specifier.startsWith('.')) return resolveFile(join(dirname(fromFile), specifier));
  const match = /^(@tokenwise\/[^/]+)(\/.*)?$/.exec(specifier);
  if (match === null) return undefined;
  const dir = packages.get(match[1]);
  if (dir === undefined) return undefined;
  const exports = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')).exports ?? {};
  const target = exports[`.${match[2] ?? ''}`];
  return typeof target === 'string' ? resolveFile(join(dir, target)) : undefined;
}

/** Repository-relative paths of every file the workflow bundle includes from `entries`. */
export function workflowBundleFiles(root, entries) {
  const packages = workspacePackages(root);
  const seen = new Set();
  const stack = entries.map((entry) => join(root, entry));
  while (stack.length > 0 && seen.size < filesMax) {
    const file = stack.pop();
    if (seen.has(file)) continue;
    seen.add(file);
    const text = readFileSync(file, 'utf8');
    const specifiers = [...text.matchAll(fromClause)]
      .map((found) => found[2])
      .concat([...text.matchAll(sideEffect)].map((found) => found[1]));
    for (const specifier of specifiers) {
      const resolved = resolveImport(specifier, file, packages);
      if (resolved !== undefined && !seen.has(resolved)) stack.push(resolved);
    }
  }
  return [...seen].map((file) => relative(root, file)).sort();
}
