import { createOrg, type Database } from '@tokenwise/db';
import { ledgerTransfers } from '@tokenwise/db/schema';
import { backends, openTestDatabase } from '@tokenwise/test/db';
import { desc, eq, sql } from 'drizzle-orm';
import { createHmac, randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { consumptionAccount, ensureAccount } from './accounts';
import { createLedger, type Ledger } from './ledger';

/** What a database superuser can do: switch triggers off for the session and rewrite the journal. */
async function asSuperuser(database: Database, statement: ReturnType<typeof sql>): Promise<void> {
  await database.db.transaction(async (tx) => {
    await tx.execute(sql`set local session_replication_role = replica`);
    await tx.execute(statement);
  });
}

describe.each(backends)('tamper detection [%s]', (backend) => {
  let database: Database;
  let dir: string;
  let ledger: Ledger;
  const key = randomBytes(32);
  const open = () => createLedger({ db: database.db, hmacKey: key, checkpointPath: join(dir, 'ledger-checkpoint.json'), checkpointIntervalMs: 10 });

  beforeEach(async () => {
    database = await openTestDatabase(backend);
    dir = await mkdtemp(join(tmpdir(), 'tw-tamper-'));
    ledger = open();
    const orgId = (await createOrg(database.db, { actor: 'system:test', input: { slug: 'tamper', name: 'Tamper' } })).id;
    const wallet = (await ensureAccount(database.db, { ownerType: 'user', ownerId: randomUUID(), currency: 'innovation', purpose: 'wallet', orgId })).id;
    const sink = await consumptionAccount(database.db, 'innovation');
    await ledger.grant({ id: 'grant-1', to: wallet, currency: 'innovation', amount: 1_000n, actor: 'user:admin', reason: 'test', orgId });
    await Promise.all(
      Array.from({ length: 6 }, (_, index) => ledger.submit([{ type: 'transfer', id: `charge-${index}`, debitAccountId: wallet, creditAccountId: sink.id, amount: 10n, code: 'charge' }])),
    );
    await ledger.hold({ id: 'hold-1', from: wallet, currency: 'innovation', amount: 50n, timeoutSeconds: 600 });
    await ledger.close();
    ledger = open();
    expect((await ledger.verify()).problems).toEqual([]);
  });
  afterEach(async () => {
    await ledger.close();
    await database.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('is refused UPDATE and DELETE on the journal by ordinary means', async () => {
    await expect(database.db.update(ledgerTransfers).set({ amount: 1n }).where(eq(ledgerTransfers.id, 'charge-1'))).rejects.toThrow();
    await expect(database.db.delete(ledgerTransfers).where(eq(ledgerTransfers.id, 'charge-1'))).rejects.toThrow();
    expect((await ledger.verify()).ok).toBe(true);
  });

  it('names a row a superuser edited, even with a MAC recomputed under a guessed key', async () => {
    await asSuperuser(database, sql`update ledger_transfers set amount = 1 where id = 'charge-2'`);
    const forgedMac = createHmac('sha256', randomBytes(32)).update('x').digest('hex');
    await asSuperuser(database, sql`update ledger_transfers set row_mac = ${forgedMac}, code = 'refund' where id = 'charge-3'`);
    const report = await ledger.verify();
    expect(report.ok).toBe(false);
    expect(report.problems).toEqual(
      expect.arrayContaining([expect.stringMatching(/^edited: transfer "charge-2" \(seq \d+\)/), expect.stringMatching(/^edited: transfer "charge-3" \(seq \d+\)/)]),
    );
  });

  it('names a row a superuser deleted by its seq and batch', async () => {
    const [victim] = await database.db.select({ seq: ledgerTransfers.seq, batchSeq: ledgerTransfers.batchSeq }).from(ledgerTransfers).where(eq(ledgerTransfers.id, 'charge-4'));
    await asSuperuser(database, sql`delete from ledger_transfers where id = 'charge-4'`);
    const report = await ledger.verify();
    expect(report.problems).toContain(`deleted: transfer seq ${victim?.seq} of batch ${victim?.batchSeq} is missing`);
  });

  it('names a row a superuser inserted', async () => {
    const [last] = await database.db.select().from(ledgerTransfers).orderBy(desc(ledgerTransfers.seq)).limit(1);
    if (last === undefined) throw new Error('no transfers');
    await asSuperuser(
      database,
      sql`insert into ledger_transfers (seq, id, type, debit_account_id, credit_account_id, currency, amount, code, batch_seq, created_at, row_mac)
        values (${(last.seq + 1n).toString()}, 'forged-grant', 'transfer', ${last.creditAccountId}, ${last.debitAccountId}, 'innovation', 999, 'grant', ${last.batchSeq.toString()}, now(), ${last.rowMac})`,
    );
    const report = await ledger.verify();
    expect(report.problems).toContain(`inserted: transfer "forged-grant" (seq ${last.seq + 1n}) belongs to no committed batch`);
  });

  it('detects whole batches deleted from the tail through the checkpoint exported outside the database', async () => {
    await asSuperuser(database, sql`delete from ledger_transfers where batch_seq = (select max(seq) from ledger_batches)`);
    await asSuperuser(database, sql`delete from ledger_batches where seq = (select max(seq) from ledger_batches)`);
    const report = await ledger.verify();
    expect(report.problems).toEqual(expect.arrayContaining([expect.stringMatching(/^the exported checkpoint names batch \d+ .*which is not in the database: batches were deleted$/)]));
  });

  it('detects account totals edited to mint tokens', async () => {
    await asSuperuser(database, sql`update ledger_accounts set credits_posted = credits_posted + 1000000 where purpose = 'wallet'`);
    const report = await ledger.verify();
    expect(report.problems).toEqual([expect.stringMatching(/^account .* stores totals \[.*\] but its journal sums to \[.*\]$/)]);
  });
});
