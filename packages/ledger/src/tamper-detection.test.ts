import { createOrg, type Database } from '@tokenwise/db';
import { ledgerAccounts, ledgerBatches, ledgerTransfers } from '@tokenwise/db/schema';
import { backends, openTestDatabase } from '@tokenwise/db/testing';
import { desc, eq, sql } from 'drizzle-orm';
import { createHmac, randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { consumptionAccount, ensureAccount } from './accounts';
import { readCheckpoint, type Checkpoint } from './checkpoint';
import { createLedger, type Ledger } from './ledger';

/** What a database superuser can do: switch triggers off for the session and rewrite the journal. */
async function asSuperuser(database: Database, statement: ReturnType<typeof sql>): Promise<void> {
  await database.db.transaction(async (tx) => {
    await tx.execute(sql`set local session_replication_role = replica`);
    await tx.execute(statement);
  });
}

/** What a superuser does after cutting the journal so that account totals agree with it again. */
const totalsFromJournal = sql`update ledger_accounts a set
  debits_posted = coalesce((select sum(t.amount) from ledger_transfers t where t.debit_account_id = a.id and t.type in ('transfer', 'post')), 0),
  credits_posted = coalesce((select sum(t.amount) from ledger_transfers t where t.credit_account_id = a.id and t.type in ('transfer', 'post')), 0),
  debits_pending = coalesce((select sum(t.amount) from ledger_transfers t where t.debit_account_id = a.id and t.type = 'pending'
    and not exists (select 1 from ledger_transfers r where r.pending_id = t.id)), 0),
  credits_pending = coalesce((select sum(t.amount) from ledger_transfers t where t.credit_account_id = a.id and t.type = 'pending'
    and not exists (select 1 from ledger_transfers r where r.pending_id = t.id)), 0)
  where not a.balance_derived`;

/** Deletes every batch after `keep` with its transfers, and fixes up account totals: a chain internally consistent, only shorter. */
async function cutTailAfter(database: Database, keep: bigint): Promise<void> {
  await asSuperuser(database, sql`delete from ledger_transfers where batch_seq > ${keep.toString()}`);
  await asSuperuser(database, sql`delete from ledger_batches where seq > ${keep.toString()}`);
  await asSuperuser(database, totalsFromJournal);
}

async function databaseHead(database: Database) {
  const [head] = await database.db.select().from(ledgerBatches).orderBy(desc(ledgerBatches.seq)).limit(1);
  if (head === undefined) throw new Error('no batches');
  return head;
}

describe.each(backends)('tamper detection [%s]', (backend) => {
  let database: Database;
  let dir: string;
  let ledger: Ledger;
  const key = randomBytes(32);
  const checkpointPath = () => join(dir, 'ledger-checkpoint.json');
  const open = () =>
    createLedger({ db: database.db, hmacKey: key, checkpointPath: checkpointPath(), checkpointIntervalMs: 10 });
  let wallet: string;
  let sink: string;
  const exported = async (): Promise<Checkpoint> => {
    const checkpoint = await readCheckpoint(checkpointPath());
    if (checkpoint === undefined) throw new Error('no checkpoint exported');
    return checkpoint;
  };
  /** More transfers through a writer of its own, whose head is exported when it closes. */
  const commitMore = async (prefix: string, count: number) => {
    const writer = open();
    for (let index = 0; index < count; index++)
      await writer.execute({
        type: 'transfer',
        id: `${prefix}-${index}`,
        debitAccountId: wallet,
        creditAccountId: sink,
        amount: 1n,
        code: 'charge',
      });
    await writer.close();
  };

  beforeEach(async () => {
    database = await openTestDatabase(backend);
    dir = await mkdtemp(join(tmpdir(), 'tw-tamper-'));
    ledger = open();
    const orgId = (await createOrg(database.db, { actor: 'system:test', input: { slug: 'tamper', name: 'Tamper' } }))
      .id;
    wallet = (
      await ensureAccount(
        database.db,
        { ownerType: 'user', ownerId: randomUUID(), currency: 'innovation', purpose: 'wallet', orgId },
        key,
      )
    ).id;
    sink = (await consumptionAccount(database.db, 'innovation', key)).id;
    await ledger.grant({
      id: 'grant-1',
      to: wallet,
      currency: 'innovation',
      amount: 1_000n,
      actor: 'user:admin',
      reason: 'test',
      orgId,
    });
    await Promise.all(
      Array.from({ length: 6 }, (_, index) =>
        ledger.submit([
          {
            type: 'transfer',
            id: `charge-${index}`,
            debitAccountId: wallet,
            creditAccountId: sink,
            amount: 10n,
            code: 'charge',
          },
        ]),
      ),
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
    await expect(
      database.db.update(ledgerTransfers).set({ amount: 1n }).where(eq(ledgerTransfers.id, 'charge-1')),
    ).rejects.toThrow();
    await expect(database.db.delete(ledgerTransfers).where(eq(ledgerTransfers.id, 'charge-1'))).rejects.toThrow();
    expect((await ledger.verify()).ok).toBe(true);
  });

  it('names a row a superuser edited, even with a MAC recomputed under a guessed key', async () => {
    await asSuperuser(database, sql`update ledger_transfers set amount = 1 where id = 'charge-2'`);
    const forgedMac = createHmac('sha256', randomBytes(32)).update('x').digest('hex');
    await asSuperuser(
      database,
      sql`update ledger_transfers set row_mac = ${forgedMac}, code = 'refund' where id = 'charge-3'`,
    );
    const report = await ledger.verify();
    expect(report.ok).toBe(false);
    expect(report.problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^edited: transfer "charge-2" \(seq \d+\)/),
        expect.stringMatching(/^edited: transfer "charge-3" \(seq \d+\)/),
      ]),
    );
  });

  it('names a row a superuser deleted by its seq and batch', async () => {
    const [victim] = await database.db
      .select({ seq: ledgerTransfers.seq, batchSeq: ledgerTransfers.batchSeq })
      .from(ledgerTransfers)
      .where(eq(ledgerTransfers.id, 'charge-4'));
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
    expect(report.problems).toContain(
      `inserted: transfer "forged-grant" (seq ${last.seq + 1n}) belongs to no committed batch`,
    );
  });

  it('names a truncated tail: the chain is consistent but shorter than the exported checkpoint', async () => {
    const checkpoint = await exported();
    await cutTailAfter(database, BigInt(checkpoint.batchSeq) - 2n);
    const head = await databaseHead(database);
    const report = await ledger.verify();
    expect(report.ok).toBe(false);
    expect(report.problems).toEqual([
      `truncated: the exported checkpoint names batch ${checkpoint.batchSeq} (MAC ${checkpoint.mac}, exported at ${checkpoint.at}) but the database's head is batch ${head.seq} (MAC ${head.mac}): batches ${head.seq + 1n}..${checkpoint.batchSeq} were deleted from the tail`,
    ]);
  });

  it('keeps the evidence of a cut tail when writers go on committing past it', async () => {
    const checkpoint = await exported();
    await cutTailAfter(database, BigInt(checkpoint.batchSeq) - 2n);
    await commitMore('after-cut', 4);
    expect(await exported()).toEqual(checkpoint);
    const report = await ledger.verify();
    const rewritten = (source: string) =>
      new RegExp(
        `^batch ${checkpoint.batchSeq} differs from ${source} \\(MAC [0-9a-f]{64} in the database, ${checkpoint.mac} exported\\): the chain was rewritten$`,
      );
    expect(report.problems).toEqual([
      expect.stringMatching(rewritten('the exported checkpoint')),
      expect.stringMatching(rewritten('the checkpoint high-water record in the database')),
    ]);
  });

  it('names a checkpoint file replaced by an older one, and a tail cut back to it', async () => {
    const older = await exported();
    const olderText = await readFile(checkpointPath(), 'utf8');
    await commitMore('later', 3);
    const newer = await exported();
    expect(BigInt(newer.batchSeq)).toBeGreaterThan(BigInt(older.batchSeq));
    await writeFile(checkpointPath(), olderText);
    const backwards = `went backwards: the exported checkpoint names batch ${older.batchSeq} (MAC ${older.mac}, exported at ${older.at}), but batch ${newer.batchSeq} (MAC ${newer.mac}) was exported at ${newer.at} (recorded in the database): the checkpoint file was replaced by an older one`;
    expect((await ledger.verify()).problems).toEqual([backwards]);

    // Both records of the head rolled back together would need the database and the host's files.
    await cutTailAfter(database, BigInt(older.batchSeq));
    const head = await databaseHead(database);
    expect((await ledger.verify()).problems).toEqual([
      backwards,
      `truncated: the checkpoint high-water record in the database names batch ${newer.batchSeq} (MAC ${newer.mac}, exported at ${newer.at}) but the database's head is batch ${head.seq} (MAC ${head.mac}): batches ${head.seq + 1n}..${newer.batchSeq} were deleted from the tail`,
    ]);
  });

  it('names a checkpoint written by someone without the key, one stripped of its MAC, a deleted one and an edited high-water record', async () => {
    const checkpoint = await exported();
    await cutTailAfter(database, BigInt(checkpoint.batchSeq) - 1n);
    const head = await databaseHead(database);
    // Whoever reads the database knows every batch MAC, but cannot seal a checkpoint of the cut chain.
    const forged = {
      batchSeq: head.seq.toString(),
      mac: head.mac,
      lastTransferSeq: head.lastTransferSeq.toString(),
      at: new Date().toISOString(),
    };
    await writeFile(
      checkpointPath(),
      JSON.stringify({ ...forged, checkpointMac: createHmac('sha256', randomBytes(32)).update('x').digest('hex') }),
    );
    expect((await ledger.verify()).problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(
          new RegExp(
            `^the exported checkpoint \\(batch ${head.seq}, at .*\\) does not match its MAC: it was edited or forged`,
          ),
        ),
        expect.stringMatching(/^truncated: the checkpoint high-water record/),
      ]),
    );
    await writeFile(checkpointPath(), JSON.stringify(forged));
    expect((await ledger.verify()).problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(new RegExp(`^unsealed: the exported checkpoint \\(batch ${head.seq}\\) carries no MAC`)),
      ]),
    );
    await rm(checkpointPath());
    expect((await ledger.verify()).problems).toEqual(
      expect.arrayContaining([
        `the exported checkpoint file is missing, but batch ${checkpoint.batchSeq} (MAC ${checkpoint.mac}) was exported at ${checkpoint.at} (recorded in the database): the file was deleted`,
      ]),
    );
    await asSuperuser(
      database,
      sql`update ledger_checkpoint_high_water set batch_seq = ${head.seq.toString()}, mac = ${head.mac}`,
    );
    expect((await ledger.verify()).problems).toEqual(
      expect.arrayContaining([
        `the checkpoint high-water record in the database (batch ${head.seq}) does not match its MAC: it was edited`,
      ]),
    );
  });

  it('names an account whose owner or flags a superuser changed, and one whose MAC was removed', async () => {
    const [victim] = await database.db.select().from(ledgerAccounts).where(eq(ledgerAccounts.purpose, 'wallet'));
    const [other] = await database.db.select().from(ledgerAccounts).where(eq(ledgerAccounts.purpose, 'issuance'));
    if (victim === undefined || other === undefined) throw new Error('no accounts');
    await asSuperuser(
      database,
      sql`update ledger_accounts set debits_must_not_exceed_credits = false where id = ${victim.id}`,
    );
    const flags = await ledger.verify();
    expect(flags.ok).toBe(false);
    expect(flags.problems).toEqual([
      `account ${victim.id} (user:${victim.ownerId} wallet in innovation, org ${victim.orgId}) no longer matches its MAC: its flags were changed (debitsMustNotExceedCredits is false, a wallet account has true)`,
    ]);
    await asSuperuser(
      database,
      sql`update ledger_accounts set debits_must_not_exceed_credits = true, owner_id = 'mallory' where id = ${victim.id}`,
    );
    expect((await ledger.verify()).problems).toEqual([
      `account ${victim.id} (user:mallory wallet in innovation, org ${victim.orgId}) no longer matches its MAC: its owner, org, currency or purpose was changed, or its MAC was copied from another account`,
    ]);
    await asSuperuser(
      database,
      sql`update ledger_accounts set owner_id = ${victim.ownerId}, account_mac = null where id = ${victim.id}`,
    );
    const elsewhere = randomUUID();
    await asSuperuser(database, sql`update ledger_accounts set org_id = ${elsewhere} where id = ${other.id}`);
    const report = await ledger.verify();
    expect(report.problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(
          new RegExp(
            `^unsealed: account ${victim.id} \\(user:${victim.ownerId} wallet in innovation, org ${victim.orgId}\\) carries no MAC.*seal it once with \`tokenwise ledger seal-accounts\``,
          ),
        ),
        `account ${other.id} (${other.ownerType}:${other.ownerId} issuance in innovation, org ${elsewhere}) no longer matches its MAC: its owner, org, currency or purpose was changed, or its MAC was copied from another account`,
      ]),
    );
  });

  it('seals accounts and a checkpoint from before MACs once, refusing an account whose flags disagree with its purpose', async () => {
    const checkpoint = await exported();
    const { checkpointMac: _mac, ...legacy } = checkpoint;
    await writeFile(checkpointPath(), JSON.stringify(legacy));
    await asSuperuser(database, sql`update ledger_accounts set account_mac = null`);
    const accounts = await database.db.select().from(ledgerAccounts);
    const before = await ledger.verify();
    expect(before.problems.filter((problem) => problem.startsWith('unsealed: '))).toHaveLength(accounts.length + 1);
    const sealed = await ledger.sealAccounts();
    expect(sealed).toMatchObject({ refused: [], checkpoint: { written: true } });
    expect(sealed.sealed).toHaveLength(accounts.length);
    expect((await ledger.verify()).problems).toEqual([]);
    expect((await ledger.sealAccounts()).sealed).toEqual([]);

    const wallet = accounts.find((account) => account.purpose === 'wallet');
    await asSuperuser(
      database,
      sql`update ledger_accounts set account_mac = null, debits_must_not_exceed_credits = false where id = ${wallet?.id}`,
    );
    expect((await ledger.sealAccounts()).refused).toEqual([
      expect.stringMatching(
        new RegExp(
          `^${wallet?.id} .*: its flags were changed \\(debitsMustNotExceedCredits is false, a wallet account has true\\)$`,
        ),
      ),
    ]);
    expect((await ledger.verify()).ok).toBe(false);
  });

  it('detects account totals edited to mint tokens', async () => {
    await asSuperuser(
      database,
      sql`update ledger_accounts set credits_posted = credits_posted + 1000000 where purpose = 'wallet'`,
    );
    const report = await ledger.verify();
    expect(report.problems).toEqual([
      expect.stringMatching(/^account .* stores totals \[.*\] but its journal sums to \[.*\]$/),
    ]);
  });
});
