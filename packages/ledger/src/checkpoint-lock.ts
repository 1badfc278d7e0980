import { randomBytes } from 'node:crypto';
import { open, readFile, rm, stat } from 'node:fs/promises';

/** How long an export waits for another process's lock before it gives up (the next export tries again). */
export const checkpointLockWaitMsMax = 5_000;
/**
 * A lock older than this was left by a process that died while holding it: an export holds it for
 * one file read, one database read and one rename, a few milliseconds.
 */
export const checkpointLockStaleMs = 10_000;
/** Pause between attempts, at most (jittered, so waiting processes do not retry in step). */
const lockRetryMsMax = 10;

async function tryAcquire(lockPath: string, token: string): Promise<boolean> {
  try {
    const handle = await open(lockPath, 'wx', 0o600);
    try {
      await handle.writeFile(`${process.pid} ${token}\n`);
    } finally {
      await handle.close();
    }
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    return false;
  }
}

async function removeIfStale(lockPath: string): Promise<void> {
  try {
    const { mtimeMs } = await stat(lockPath);
    if (Date.now() - mtimeMs > checkpointLockStaleMs) await rm(lockPath, { force: true });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
}

/**
 * Runs `critical` while holding `<path>.lock`, a file created with O_EXCL: one process at a time
 * on this host (and on a shared volume with atomic exclusive create). Every export reads, compares
 * and replaces the checkpoint inside it, so two processes never both decide "mine is newer"
 * against the same old file.
 */
export async function withCheckpointLock<T>(path: string, critical: () => Promise<T>): Promise<T> {
  const lockPath = `${path}.lock`;
  const token = randomBytes(8).toString('hex');
  const deadline = Date.now() + checkpointLockWaitMsMax;
  while (!(await tryAcquire(lockPath, token))) {
    if (Date.now() > deadline) {
      throw new Error(
        `The checkpoint lock ${lockPath} was held for over ${checkpointLockWaitMsMax} ms; if no tokenwise process is running, remove it.`,
      );
    }
    await removeIfStale(lockPath);
    await new Promise((resolve) => setTimeout(resolve, 1 + Math.random() * lockRetryMsMax));
  }
  try {
    return await critical();
  } finally {
    // Only our own lock: had it gone stale and been taken over, the new holder's stays.
    const held = await readFile(lockPath, 'utf8').catch(() => '');
    if (held.includes(token)) await rm(lockPath, { force: true });
  }
}
