import { mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { goModuleSumMismatch } from './go-module-sum';
import type { PinnedGoModule } from './pinned-binaries';
import { runCommand, which } from './run-command';
import { ProvisionError, sha256File, type Log } from './verified-binary';

/** Settings that would let `go` skip the checksum database or read them from a file we cannot see. */
const sumBypassVariables = [
  'GONOSUMDB',
  'GONOSUMCHECK',
  'GOPRIVATE',
  'GOINSECURE',
  'GOFLAGS',
  'GOWORK',
  'GOENV',
] as const;

/**
 * The environment of the pinned source build: the checksum database on (the caller's GOSUMDB unless
 * it is off), nothing that exempts modules from it, no go env file (`go env -w` settings could), no
 * workspace, and a module cache of its own so no earlier, unchecked download is reused.
 */
export function goEnvForPinnedBuild(
  env: NodeJS.ProcessEnv,
  paths: { gobin: string; gomodcache: string },
): NodeJS.ProcessEnv {
  const kept: NodeJS.ProcessEnv = { ...env };
  for (const name of sumBypassVariables) delete kept[name];
  const sumdb =
    env.GOSUMDB !== undefined && env.GOSUMDB !== '' && env.GOSUMDB !== 'off' ? env.GOSUMDB : 'sum.golang.org';
  return {
    ...kept,
    GOSUMDB: sumdb,
    GOENV: 'off',
    GOWORK: 'off',
    // -modcacherw: the private module cache can be removed afterwards without chmod.
    GOFLAGS: '-mod=mod -modcacherw',
    GOBIN: paths.gobin,
    GOMODCACHE: paths.gomodcache,
    CGO_ENABLED: '0',
  };
}

/** The sha256 recorded beside a binary we built ourselves (a source build has no published hash). */
export function builtHashPath(binary: string): string {
  return `${binary}.sha256`;
}

/**
 * Builds the pinned module with Go: downloads it, refuses it unless its sums are the pinned go.sum
 * lines, builds it, and records the result's sha256 so later starts can check it before use.
 */
export async function installWithGo(
  pin: PinnedGoModule,
  binaryName: string,
  dir: string,
  callerEnv: NodeJS.ProcessEnv,
  log: Log,
): Promise<string> {
  const go = await which('go', callerEnv);
  if (go === undefined) throw new ProvisionError('Go is not installed.');
  const work = await mkdtemp(join(dir, '.build-'));
  try {
    const env = goEnvForPinnedBuild(callerEnv, { gobin: join(work, 'bin'), gomodcache: join(work, 'modcache') });
    const download = await runCommand(go, ['mod', 'download', '-json', `${pin.module}@${pin.version}`], {
      env,
      cwd: work,
    });
    if (download.code !== 0)
      throw new ProvisionError(
        `go mod download ${pin.module}@${pin.version} failed: ${download.stderr.trim().slice(-600) || download.stdout.trim().slice(-600)}`,
      );
    const mismatch = goModuleSumMismatch(download.stdout, pin);
    if (mismatch !== undefined) throw new ProvisionError(`${mismatch}\nRefusing to build it.`);
    log(
      `${pin.module} ${pin.version} matches its pinned go.sum lines; building ${pin.packagePath} (takes a few minutes)...`,
    );
    const build = await runCommand(go, ['install', '-v', `${pin.packagePath}@${pin.version}`], {
      env,
      cwd: work,
      echo: true,
    });
    if (build.code !== 0)
      throw new ProvisionError(
        `go install ${pin.packagePath}@${pin.version} failed: ${build.stderr.trim().slice(-600)}`,
      );
    const finalPath = join(dir, binaryName);
    const sha256 = await sha256File(join(work, 'bin', binaryName));
    await rename(join(work, 'bin', binaryName), finalPath);
    await writeFile(builtHashPath(finalPath), `${sha256}\n`, { mode: 0o600 });
    log(`${pin.label} built (sha256 ${sha256.slice(0, 12)}...) and cached at ${finalPath}`);
    return finalPath;
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
