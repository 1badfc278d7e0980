import type { Database } from '@tokenwise/db';
import { ledgerBatchIntervalMs } from '@tokenwise/gateway';
import { createLedger, hmacKeyBytesMin, type Ledger } from '@tokenwise/ledger';
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Config } from './config';
import { loadKeyPepper } from './key-pepper';
import type { DemoGithub } from './local/demo-github';
import { openPrivateDatabase } from './local/open-private-database';
import { makeDataDirPrivate, tightenDataDir } from './local/private-data-dir';

/** What commands run against: in the platform process, or opened by the CLI itself. */
export interface Services {
  config: Config;
  database: Database;
  ledger: Ledger;
  /** The HMAC pepper of API key secrets. */
  keyPepper: Buffer;
  /** The local GitHub stand-in, in the `npm start` process only: what `github play-merge` drives. */
  demoGithub?: DemoGithub;
  close(): Promise<void>;
}

/**
 * The journal's HMAC key: from TOKENWISE_LEDGER_KEY, else from `<dataDir>/ledger.key`, created
 * (owner-only) on first use. It must never be stored in the database it protects.
 */
export async function loadLedgerKey(config: Config): Promise<Buffer> {
  if (config.ledgerKey !== undefined) return config.ledgerKey;
  try {
    const key = Buffer.from((await readFile(config.ledgerKeyPath, 'utf8')).trim(), 'hex');
    if (key.length < hmacKeyBytesMin)
      throw new Error(`${config.ledgerKeyPath} holds fewer than ${hmacKeyBytesMin} bytes.`);
    return key;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  const key = randomBytes(32);
  await mkdir(dirname(config.ledgerKeyPath), { recursive: true, mode: 0o700 });
  await writeFile(config.ledgerKeyPath, `${key.toString('hex')}\n`, { mode: 0o600, flag: 'wx' });
  return key;
}

/** Opens the database (migrated) and the ledger, in a data dir made owner-only. */
export async function openServices(config: Config): Promise<Services> {
  await makeDataDirPrivate(config.dataDir);
  const database = await openPrivateDatabase(config);
  try {
    await database.migrate();
    const keyPepper = await loadKeyPepper(config);
    const ledger = createLedger({
      db: database.db,
      hmacKey: await loadLedgerKey(config),
      checkpointPath: config.ledgerCheckpointPath,
      batchIntervalMs: ledgerBatchIntervalMs,
    });
    // Files an older version left readable (keys, dev.json, Temporal's SQLite file) are the platform's too.
    await tightenDataDir(config.dataDir);
    return {
      config,
      database,
      ledger,
      keyPepper,
      async close() {
        await ledger.close();
        await database.close();
      },
    };
  } catch (error) {
    await database.close();
    throw error;
  }
}
