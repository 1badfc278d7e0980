#!/usr/bin/env node
// Part of `npm run lint`: every package import in a workspace package is declared in its
// package.json, no file reaches into another package's folder by a relative path, and the
// workspace packages depend on each other without a cycle (dev dependencies included, since a
// test harness that depends on what it tests is a cycle too).
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const rootManifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const builtins = new Set(builtinModules);
/** Files that only tests, benches and scripts run: they may use dev dependencies. */
const devFile =
  /(\.test\.ts$|\/bench\/|\/scripts\/|\/fuzz\/|\/fixtures\/|test-kit\.ts$|\/testing\.ts$|test-fixtures\.ts$|test-world\.ts$|\.config\.ts$)/;
/** The test run itself (global setup, end-to-end tests): nothing ships from it. */
const devPackages = new Set(['@tokenwise/test']);
const sourceFile = /\.(ts|mts|mjs|js)$/;
const skippedDirs = new Set(['node_modules', 'dist', 'coverage', '.tokenwise']);
const importPattern =
  /(?:^|[\s;])(?:import|export)\s+(?:type\s+)?(?:[^'";]*?\sfrom\s+)?['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)|require\(\s*['"]([^'"]+)['"]\s*\)/g;

function workspaceDirs() {
  const dirs = [];
  for (const pattern of rootManifest.workspaces) {
    if (pattern.endsWith('/*')) {
      const parent = join(root, pattern.slice(0, -2));
      for (const name of readdirSync(parent)) {
        const dir = join(parent, name);
        if (statSync(dir).isDirectory() && statSync(join(dir, 'package.json'), { throwIfNoEntry: false }))
          dirs.push(dir);
      }
    } else dirs.push(join(root, pattern));
  }
  return dirs;
}

function* sourceFiles(dir) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (skippedDirs.has(entry.name)) continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* sourceFiles(path);
    else if (sourceFile.test(entry.name) && !entry.name.endsWith('.d.ts')) yield path;
  }
}

function packageNameOf(specifier) {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
}

/** Comments are dropped so an example in a doc comment is not read as an import. */
function withoutComments(text) {
  return text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`])\/\/.*$/gm, '$1');
}

const packages = workspaceDirs().map((dir) => {
  const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
  return {
    dir,
    name: manifest.name,
    dependencies: new Set(Object.keys(manifest.dependencies ?? {})),
    devDependencies: new Set(Object.keys(manifest.devDependencies ?? {})),
  };
});
const byName = new Map(packages.map((pkg) => [pkg.name, pkg]));
const rootDevDependencies = new Set(Object.keys(rootManifest.devDependencies ?? {}));
const problems = [];

for (const pkg of packages) {
  for (const file of sourceFiles(pkg.dir)) {
    const shown = relative(root, file);
    const dev = devPackages.has(pkg.name) || devFile.test(`/${relative(pkg.dir, file).split(sep).join('/')}`);
    const text = withoutComments(readFileSync(file, 'utf8'));
    for (const match of text.matchAll(importPattern)) {
      const specifier = match[1] ?? match[2] ?? match[3];
      if (specifier.startsWith('.')) {
        const target = resolve(dirname(file), specifier);
        if (!target.startsWith(pkg.dir + sep) && target !== pkg.dir)
          problems.push(`${shown}: "${specifier}" reaches into another package's folder; import it by package name`);
        continue;
      }
      if (specifier.startsWith('node:') || builtins.has(specifier) || builtins.has(packageNameOf(specifier))) continue;
      const name = packageNameOf(specifier);
      if (name === pkg.name || pkg.dependencies.has(name)) continue;
      if (dev && (pkg.devDependencies.has(name) || rootDevDependencies.has(name))) continue;
      const where = pkg.devDependencies.has(name)
        ? 'only in devDependencies, but this is not a test file'
        : 'undeclared';
      problems.push(`${shown}: imports "${specifier}", ${where} in ${relative(root, pkg.dir)}/package.json`);
    }
  }
}

// Cycles among workspace packages, through dependencies and devDependencies alike.
const state = new Map();
const stack = [];
function visit(pkg) {
  state.set(pkg.name, 'open');
  stack.push(pkg.name);
  for (const name of [...pkg.dependencies, ...pkg.devDependencies]) {
    const next = byName.get(name);
    if (next === undefined) continue;
    if (state.get(name) === 'open')
      problems.push(`dependency cycle: ${[...stack.slice(stack.indexOf(name)), name].join(' -> ')}`);
    else if (state.get(name) === undefined) visit(next);
  }
  stack.pop();
  state.set(pkg.name, 'done');
}
for (const pkg of packages) if (state.get(pkg.name) === undefined) visit(pkg);

if (problems.length > 0) {
  process.stderr.write(`Workspace imports:\n${problems.map((line) => `  ${line}`).join('\n')}\n`);
  process.exit(1);
}
process.stdout.write(`Workspace imports: ${packages.length} packages declare what they import, no cycle.\n`);
