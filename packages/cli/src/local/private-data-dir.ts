import { chmod, lstat, mkdir, readdir } from 'node:fs/promises';
import { join } from 'node:path';

/** Group and other permission bits: none may be set anywhere in the data dir. */
const groupOtherBits = 0o077;
/** Entries one walk visits: PGlite's data dir holds about a thousand; far more means a wrong TOKENWISE_DATA_DIR. */
export const dataDirEntriesMax = 100_000;
/** Loose paths a doctor report names before it says "and N more". */
const loosePathsShownMax = 10;

/**
 * What the platform writes in the data dir, and so may chmod: PGlite's tree and lock, Temporal's
 * SQLite file and its journals, the keys, the ledger checkpoint(s), dev.json, run.json, and the
 * `<name>.<pid>[.<random>].tmp` files they are written through. A new file under the data dir belongs here.
 * `judge-key` is no longer written (judge keys are minted per org and kept in memory) but an older
 * data dir may still hold one, a secret, so it is still made owner-only.
 */
const platformEntry =
  /^(?:pg|pg\.lock|temporal\.db(?:-wal|-shm|-journal)?|ledger\.key|ledger-checkpoint[\w.-]*|key-pepper|judge-key|dev\.json|run\.json)(?:\.[0-9a-z.]+\.tmp)?$/;

export interface LoosePath {
  path: string;
  /** Permission bits, e.g. 0o644. */
  mode: number;
}

type Visit = (path: string, mode: number, uid: number) => Promise<void>;

/** Visits `path` and, for a directory, everything under it (symlinks are not followed), within `budget` entries. */
async function walk(path: string, visit: Visit, budget: { left: number }): Promise<void> {
  if (budget.left <= 0) return;
  budget.left -= 1;
  const info = await lstat(path).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return undefined; // Removed while we walked (a temp file, a WAL segment).
    throw error;
  });
  if (info === undefined || info.isSymbolicLink()) return;
  await visit(path, info.mode & 0o777, info.uid);
  if (!info.isDirectory()) return;
  const names = await readdir(path).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return [];
    throw error;
  });
  for (const name of names) await walk(join(path, name), visit, budget);
}

/** Removes group and other bits from a path we own; a path someone else owns is left to `doctor`. */
const tighten: Visit = async (path, mode, uid) => {
  if ((mode & groupOtherBits) === 0) return;
  if (process.getuid !== undefined && uid !== process.getuid()) return;
  await chmod(path, mode & ~groupOtherBits).catch((error: NodeJS.ErrnoException) => {
    if (error.code !== 'ENOENT') throw error;
  });
};

/**
 * Makes the data dir owner-only: 0700 itself, and no group or other bits on anything the platform
 * writes in it (files end up 0600, directories 0700), whatever the umask or an older version left.
 */
export async function tightenDataDir(dataDir: string): Promise<void> {
  const budget = { left: dataDirEntriesMax };
  const info = await lstat(dataDir).catch(() => undefined);
  if (info === undefined || !info.isDirectory()) return;
  await tighten(dataDir, info.mode & 0o777, info.uid);
  for (const name of await readdir(dataDir)) {
    if (platformEntry.test(name)) await walk(join(dataDir, name), tighten, budget);
  }
}

/** Creates the data dir owner-only (0700, parents too) or tightens the one that exists. */
export async function makeDataDirPrivate(dataDir: string): Promise<void> {
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  await tightenDataDir(dataDir);
}

/** Every path in the data dir (itself included) that group or other may use; empty when it does not exist. */
export async function findLoosePaths(dataDir: string): Promise<{ loose: LoosePath[]; complete: boolean }> {
  const loose: LoosePath[] = [];
  const budget = { left: dataDirEntriesMax };
  await walk(
    dataDir,
    async (path, mode) => {
      if ((mode & groupOtherBits) !== 0) loose.push({ path, mode });
    },
    budget,
  );
  return { loose, complete: budget.left > 0 };
}

/** A path as a POSIX shell word. */
function shellQuote(text: string): string {
  return `'${text.replaceAll("'", "'\\''")}'`;
}

/** "path (0644), ...; run chmod ..." for the paths `findLoosePaths` found. */
export function describeLoosePaths(dataDir: string, loose: readonly LoosePath[]): string {
  const shown = loose
    .slice(0, loosePathsShownMax)
    .map(({ path, mode }) => `${path} (${mode.toString(8).padStart(4, '0')})`);
  const more = loose.length > shown.length ? `, and ${loose.length - shown.length} more` : '';
  return `group or other can reach ${loose.length} path(s): ${shown.join(', ')}${more}. Fix with \`chmod -R go-rwx ${shellQuote(dataDir)}\``;
}
