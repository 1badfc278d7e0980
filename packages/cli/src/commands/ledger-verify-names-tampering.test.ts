import { openDatabase } from '@tokenwise/db';
import { sql } from 'drizzle-orm';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runTokenwise } from '../test-kit';
import { loadConfig, type Config } from '../config';
import { openServices } from '../services';
import { adminCommands } from './admin/index';

const tokenwise = (args: string[], env: NodeJS.ProcessEnv) => runTokenwise(args, { env });

/** Runs statements as a database superuser would: triggers off, straight at the embedded database. */
async function asSuperuser(config: Config, statements: ReturnType<typeof sql>[]): Promise<void> {
  const database = await openDatabase({ dataDir: config.pgliteDir });
  try {
    await database.db.transaction(async (tx) => {
      await tx.execute(sql`set local session_replication_role = replica`);
      for (const statement of statements) await tx.execute(statement);
    });
  } finally {
    await database.close();
  }
}

describe('tokenwise ledger verify and seal-accounts, as an operator runs them', () => {
  let dir: string;
  let env: NodeJS.ProcessEnv;
  let config: Config;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tw-ledger-verify-'));
    env = {
      TOKENWISE_DATA_DIR: dir,
      DATABASE_URL: '',
      TEMPORAL_ADDRESS: undefined,
      TOKENWISE_LEDGER_KEY: randomBytes(32).toString('hex'),
    };
    config = loadConfig(env);
    const services = await openServices(config);
    try {
      await adminCommands['org create']?.(services, { slug: 'acme', name: 'Acme' }, 'cli:test');
      await adminCommands['user create']?.(
        services,
        { org: 'acme', email: 'alice@acme.test', name: 'Alice' },
        'cli:test',
      );
      for (const id of ['welcome-1', 'welcome-2', 'welcome-3'])
        await adminCommands.grant?.(
          services,
          { org: 'acme', user: 'alice@acme.test', amount: '5', reason: 'welcome', id },
          'cli:test',
        );
    } finally {
      await services.close();
    }
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('names accounts opened before account MACs, seals them once, then finds the ledger intact', async () => {
    await asSuperuser(config, [sql`update ledger_accounts set account_mac = null`]);
    const before = await tokenwise(['ledger', 'verify'], env);
    expect(before.stderr).toBe('');
    expect(before.code).toBe(1);
    expect(before.stdout).toMatch(/TAMPERING OR CORRUPTION FOUND:\n {2}unsealed: account [0-9a-f-]{36} \(/);
    const sealed = await tokenwise(['ledger', 'seal-accounts'], env);
    expect(sealed).toMatchObject({
      code: 0,
      stdout: expect.stringMatching(
        /^Sealed 2 account\(s\) opened before account MACs, as they stand now:\n[\s\S]*user:.* wallet in innovation/,
      ),
    });
    const after = await tokenwise(['ledger', 'verify'], env);
    expect(after).toMatchObject({ code: 0, stdout: expect.stringContaining('The ledger is intact.') });
  }, 60_000);

  it('exits 1 naming the checkpoint and the database head when the last batches were cut and totals fixed up', async () => {
    const checkpoint = JSON.parse(await readFile(config.ledgerCheckpointPath, 'utf8')) as {
      batchSeq: string;
      mac: string;
    };
    expect(checkpoint.batchSeq).toBe('3');
    await asSuperuser(config, [
      sql`delete from ledger_transfers where batch_seq > 1`,
      sql`delete from ledger_batches where seq > 1`,
      sql`update ledger_accounts a set
        credits_posted = coalesce((select sum(t.amount) from ledger_transfers t where t.credit_account_id = a.id), 0),
        debits_posted = coalesce((select sum(t.amount) from ledger_transfers t where t.debit_account_id = a.id), 0)`,
    ]);
    const result = await tokenwise(['ledger', 'verify'], env);
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(
      new RegExp(
        `TAMPERING OR CORRUPTION FOUND:\\n {2}truncated: the exported checkpoint names batch 3 \\(MAC ${checkpoint.mac}, exported at [^)]+\\) but the database's head is batch 1 \\(MAC [0-9a-f]{64}\\): batches 2\\.\\.3 were deleted from the tail$`,
        'm',
      ),
    );
  }, 60_000);
});
