import { ConflictError } from '@tokenwise/core';
import { open, readFile, rm } from 'node:fs/promises';

export interface DataDirLock {
  release(): Promise<void>;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * PGlite is single-process: two processes opening one data dir corrupt it. A pid file beside the
 * data dir makes the second opener fail with a message instead. A stale file (dead pid) is taken over.
 */
export async function acquireDataDirLock(dataDir: string): Promise<DataDirLock> {
  const path = `${dataDir}.lock`;
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const handle = await open(path, 'wx', 0o600);
      await handle.writeFile(`${process.pid}\n`);
      await handle.close();
      return { release: () => rm(path, { force: true }) };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const pid = Number((await readFile(path, 'utf8').catch(() => '')).trim());
      if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && isAlive(pid)) {
        throw new ConflictError(
          `The embedded database at ${dataDir} is open in process ${pid} (the running platform). ` +
            'PGlite serves one process: use the running platform (the CLI talks to it), or stop it first.',
          { pid },
        );
      }
      await rm(path, { force: true });
    }
  }
  throw new ConflictError(`Could not lock ${dataDir}: another process keeps taking the lock.`);
}
