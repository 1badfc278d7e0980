import { openTestDatabase } from '@tokenwise/db/testing';
import { executeRows, type Database } from '@tokenwise/db';
import { createLedger, type Ledger } from '@tokenwise/ledger';
import { sql } from 'drizzle-orm';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSettlementRuntime } from './settlement-runtime';

// Compose starts the api and the worker together on a fresh database: neither may trip on the other.
describe('two services loading the scoring plugins at once on a fresh database', () => {
  let database: Database;
  let ledger: Ledger;
  const dirs: string[] = [];
  beforeAll(async () => {
    database = await openTestDatabase('postgres');
    ledger = createLedger({ db: database.db, hmacKey: randomBytes(32) });
  });
  afterAll(async () => {
    await ledger?.close();
    await database?.close();
    await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
  });

  it('all start with the scoring plugins; judge keys are minted per org on first use, none at start', async () => {
    const keyPepper = randomBytes(32);
    const start = async () => {
      const dataDir = await mkdtemp(join(tmpdir(), 'tw-runtime-'));
      dirs.push(dataDir);
      return startSettlementRuntime({ db: database.db, ledger, keyPepper, dataDir, gatewayUrl: 'http://127.0.0.1:9' });
    };
    for (let round = 0; round < 3; round++) {
      const runtimes = await Promise.all([start(), start(), start()]);
      for (const runtime of runtimes) expect(runtime.plugins.has('llm-judge')).toBe(true);
    }
    const rows = await executeRows<{ orgs: number; keys: number }>(
      database.db,
      sql`select (select count(*)::int from orgs) as orgs, (select count(*)::int from api_keys) as keys`,
    );
    expect(rows).toEqual([{ orgs: 0, keys: 0 }]);
  });
});
