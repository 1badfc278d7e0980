/** Why a changed file's lines are left out of matching. */
export type SkipReason = 'binary' | 'lockfile' | 'generated' | 'vendored' | 'minified';

/** An added line longer than this is minified or generated output, not code someone wrote. */
export const minifiedLineCharsMin = 1_000;

const lockfileNames = new Set([
  'package-lock.json',
  'npm-shrinkwrap.json',
  'yarn.lock',
  'pnpm-lock.yaml',
  'bun.lockb',
  'bun.lock',
  'deno.lock',
  'cargo.lock',
  'gemfile.lock',
  'composer.lock',
  'poetry.lock',
  'pipfile.lock',
  'uv.lock',
  'pdm.lock',
  'go.sum',
  'mix.lock',
  'pubspec.lock',
  'podfile.lock',
  'packages.lock.json',
  'flake.lock',
  'gradle.lockfile',
]);

const vendoredPath = /(?:^|\/)(?:node_modules|vendor|vendored|third[_-]party|bower_components|\.yarn)\//i;
const generatedPath =
  /(?:^|\/)(?:dist|__generated__|generated)\/|\.(?:generated|gen|g)\.[a-z0-9]+$|_pb2(?:_grpc)?\.pyi?$|\.pb(?:\.gw)?\.go$|\.pb\.(?:cc|h)$|_generated\.[a-z0-9]+$|\.snap$|\.map$|\.d\.ts$/i;
const minifiedPath = /[.-]min\.(?:js|mjs|css)$|\.bundle\.js$/i;

/**
 * Whether a pull request's file is left out of matching, and why: no patch (binary, or too big
 * for GitHub to diff), a lockfile, vendored or generated code, minified output. None of it was
 * written from a completion, and all of it is large: it would only dilute or fake matches.
 */
export function skippedFileReason(path: string, patch: string | undefined): SkipReason | undefined {
  if (patch === undefined || patch.length === 0) return 'binary';
  const name = path.slice(path.lastIndexOf('/') + 1).toLowerCase();
  if (lockfileNames.has(name) || name.endsWith('.lock')) return 'lockfile';
  if (vendoredPath.test(path)) return 'vendored';
  if (minifiedPath.test(path)) return 'minified';
  if (generatedPath.test(path) || /^\+.*@generated|^\+.*DO NOT EDIT/m.test(patch.slice(0, 2_000))) return 'generated';
  if (patch.split('\n').some((line) => line.startsWith('+') && line.length > minifiedLineCharsMin)) return 'minified';
  return undefined;
}
