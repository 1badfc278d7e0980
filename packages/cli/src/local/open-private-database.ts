import { openDatabase, serviceIdleTimeoutMs, type Database } from '@tokenwise/db';
import type { Config } from '../config';
import { makeDataDirPrivate, tightenDataDir } from './private-data-dir';

/** How often a process serving PGlite re-tightens the data dir: PGlite creates new files 0666 whatever the umask. */
export const dataDirTightenIntervalMs = 60_000;

/**
 * Opens the configured database (DATABASE_URL, else PGlite under the data dir). The data dir is made
 * owner-only first; PGlite's files are tightened after open, every `dataDirTightenIntervalMs` while
 * open, and at close.
 */
export async function openPrivateDatabase(
  config: Config,
  onError: (error: Error) => void = reportTightenError,
): Promise<Database> {
  if (config.databaseUrl) return openDatabase({ url: config.databaseUrl, idleTimeoutMs: serviceIdleTimeoutMs });
  await makeDataDirPrivate(config.dataDir);
  const database = await openDatabase({ dataDir: config.pgliteDir });
  let running: Promise<void> | undefined;
  const tightenNow = () => {
    running ??= tightenDataDir(config.dataDir)
      .catch(onError)
      .finally(() => (running = undefined));
    return running;
  };
  try {
    await tightenDataDir(config.dataDir);
  } catch (error) {
    await database.close();
    throw error;
  }
  const timer = setInterval(() => void tightenNow(), dataDirTightenIntervalMs);
  timer.unref();
  return {
    ...database,
    async close() {
      clearInterval(timer);
      await running;
      await database.close();
      await tightenDataDir(config.dataDir);
    },
  };
}

function reportTightenError(error: Error): void {
  process.stderr.write(`tokenwise: could not make the data dir owner-only: ${error.message}\n`);
}
