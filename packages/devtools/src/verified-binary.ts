import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { access, constants, readFile, stat } from 'node:fs/promises';

export type Log = (line: string) => void;

export class ProvisionError extends Error {
  override readonly name = 'ProvisionError';
}

/** True for an existing regular file (symlinks followed) that we may execute. */
export async function isExecutable(path: string): Promise<boolean> {
  try {
    await access(path, constants.X_OK);
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

/** sha256 of a file's contents, hex. */
export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path, { highWaterMark: 1024 * 1024 })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** A cached binary, hashed before every use: size and mtime prove nothing (anyone who can write it can restore them). */
export type CachedBinary =
  | { state: 'missing' }
  | { state: 'verified'; path: string }
  | { state: 'changed'; path: string; actual: string; expected: string };

/** Hashes `path` against `expected` (from the pin, or recorded when we built it). */
export async function checkCachedBinary(path: string, expected: string): Promise<CachedBinary> {
  if (!(await isExecutable(path))) return { state: 'missing' };
  const actual = await sha256File(path);
  return actual === expected ? { state: 'verified', path } : { state: 'changed', path, actual, expected };
}

/** The hash we recorded beside a binary we built ourselves, or undefined when there is none. */
export async function readRecordedHash(path: string): Promise<string | undefined> {
  try {
    const text = (await readFile(path, 'utf8')).trim();
    return /^[0-9a-f]{64}$/.test(text) ? text : undefined;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/** What we say about a cached binary whose hash is not the one it was installed with. */
export function changedBinaryMessage(
  label: string,
  cached: { path: string; actual: string; expected: string },
): string {
  return `The cached ${label} at ${cached.path} has sha256 ${cached.actual}, expected ${cached.expected}: it is not the binary that was installed there.`;
}
