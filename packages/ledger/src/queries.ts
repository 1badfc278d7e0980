import { ValidationError } from '@tokenwise/core';
import { executeRows, type Db } from '@tokenwise/db';
import { ledgerAccounts, ledgerBatches, ledgerTransfers } from '@tokenwise/db/schema';
import { and, desc, eq, inArray, lt, or, sql } from 'drizzle-orm';
import { historyPageSizeMax } from './limits';
import type { Balance, Transfer } from './types';
import { transferColumns } from './transfer-columns';

/** Posted and pending totals summed from the journal (how derived accounts are read, and how verify checks the rest). */
export async function journalTotals(db: Db, accountId: string) {
  const [row] = await executeRows<{ dp: string; dpo: string; cp: string; cpo: string }>(
    db,
    sql`select
      coalesce(sum(t.amount) filter (where t.debit_account_id = ${accountId} and t.type in ('transfer', 'post')), 0)::text as dpo,
      coalesce(sum(t.amount) filter (where t.credit_account_id = ${accountId} and t.type in ('transfer', 'post')), 0)::text as cpo,
      coalesce(sum(t.amount) filter (where t.debit_account_id = ${accountId} and t.type = 'pending' and r.seq is null), 0)::text as dp,
      coalesce(sum(t.amount) filter (where t.credit_account_id = ${accountId} and t.type = 'pending' and r.seq is null), 0)::text as cp
    from ledger_transfers t
    left join ledger_transfers r on r.pending_id = t.id and t.type = 'pending'
    where t.debit_account_id = ${accountId} or t.credit_account_id = ${accountId}`,
  );
  return {
    debitsPending: BigInt(row?.dp ?? 0),
    debitsPosted: BigInt(row?.dpo ?? 0),
    creditsPending: BigInt(row?.cp ?? 0),
    creditsPosted: BigInt(row?.cpo ?? 0),
  };
}

/** The balance of one account, or undefined when there is no such account. */
export async function getBalance(db: Db, accountId: string): Promise<Balance | undefined> {
  const [account] = await db
    .select({
      id: ledgerAccounts.id,
      currency: ledgerAccounts.currency,
      balanceDerived: ledgerAccounts.balanceDerived,
      debitsPending: ledgerAccounts.debitsPending,
      debitsPosted: ledgerAccounts.debitsPosted,
      creditsPending: ledgerAccounts.creditsPending,
      creditsPosted: ledgerAccounts.creditsPosted,
    })
    .from(ledgerAccounts)
    .where(eq(ledgerAccounts.id, accountId))
    .limit(1);
  if (account === undefined) return undefined;
  const totals = account.balanceDerived ? await journalTotals(db, accountId) : account;
  const posted = totals.creditsPosted - totals.debitsPosted;
  return {
    accountId,
    currency: account.currency,
    debitsPending: totals.debitsPending,
    debitsPosted: totals.debitsPosted,
    creditsPending: totals.creditsPending,
    creditsPosted: totals.creditsPosted,
    posted,
    available: posted - totals.debitsPending,
  };
}

/** Transfers touching an account, newest first; page with `beforeSeq`. */
export async function getHistory(
  db: Db,
  params: { accountId: string; limit?: number; beforeSeq?: bigint },
): Promise<Transfer[]> {
  const limit = params.limit ?? 20;
  if (!Number.isInteger(limit) || limit < 1 || limit > historyPageSizeMax)
    throw new ValidationError(`limit must be 1..${historyPageSizeMax}.`);
  const touches = or(
    eq(ledgerTransfers.debitAccountId, params.accountId),
    eq(ledgerTransfers.creditAccountId, params.accountId),
  );
  const rows = await db
    .select(transferColumns)
    .from(ledgerTransfers)
    .where(params.beforeSeq === undefined ? touches : and(touches, lt(ledgerTransfers.seq, params.beforeSeq)))
    .orderBy(desc(ledgerTransfers.seq))
    .limit(limit);
  return rows as Transfer[];
}

/** The newest transfer with `code` that touches an account, or undefined when there is none. */
export async function lastTransferWithCode(
  db: Db,
  params: { accountId: string; code: string },
): Promise<Transfer | undefined> {
  const [row] = await db
    .select(transferColumns)
    .from(ledgerTransfers)
    .where(
      and(
        eq(ledgerTransfers.code, params.code),
        or(eq(ledgerTransfers.debitAccountId, params.accountId), eq(ledgerTransfers.creditAccountId, params.accountId)),
      ),
    )
    .orderBy(desc(ledgerTransfers.seq))
    .limit(1);
  return row as Transfer | undefined;
}

export async function getTransfer(db: Db, id: string): Promise<Transfer | undefined> {
  const [row] = await db.select(transferColumns).from(ledgerTransfers).where(eq(ledgerTransfers.id, id)).limit(1);
  return row as Transfer | undefined;
}

/** The transfers with these ids that exist (any order). */
export async function getTransfers(db: Db, ids: readonly string[]): Promise<Transfer[]> {
  if (ids.length === 0) return [];
  const rows = await db
    .select(transferColumns)
    .from(ledgerTransfers)
    .where(inArray(ledgerTransfers.id, [...ids]));
  return rows as Transfer[];
}

/** Pending transfers past their expiry and not yet resolved, oldest first. */
export async function findExpiredPending(db: Db, params: { now: Date; limit: number }): Promise<string[]> {
  const rows = await executeRows<{ id: string }>(
    db,
    sql`select t.id from ledger_transfers t
      where t.type = 'pending' and t.expires_at <= ${params.now.toISOString()}::timestamptz
        and not exists (select 1 from ledger_transfers r where r.pending_id = t.id)
      order by t.expires_at limit ${params.limit}`,
  );
  return rows.map((row) => row.id);
}

/** The last committed batch of the chain, or undefined before the first. */
export async function readChainHead(
  db: Db,
): Promise<{ batchSeq: bigint; mac: string; lastTransferSeq: bigint } | undefined> {
  const [row] = await db
    .select({ batchSeq: ledgerBatches.seq, mac: ledgerBatches.mac, lastTransferSeq: ledgerBatches.lastTransferSeq })
    .from(ledgerBatches)
    .orderBy(desc(ledgerBatches.seq))
    .limit(1);
  return row;
}

/** The MAC the chain holds for a batch, or undefined when the batch is not there. */
export async function batchMacAt(db: Db, seq: bigint): Promise<string | undefined> {
  const [row] = await db
    .select({ mac: ledgerBatches.mac })
    .from(ledgerBatches)
    .where(eq(ledgerBatches.seq, seq))
    .limit(1);
  return row?.mac;
}
