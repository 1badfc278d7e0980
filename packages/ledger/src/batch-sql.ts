import { fromJsonValue } from '@tokenwise/core';
import { executeRows, pgArray, stringifyJsonb, type Db } from '@tokenwise/db';
import type { TransferType } from '@tokenwise/db/schema';
import { sql, type SQL } from 'drizzle-orm';
import type { AccountState } from './evaluate';
import { isoTime } from './iso-time';
import type { OwnerType, Transfer } from './types';

/**
 * The two statements of a batch after the chain lock, written by hand because each replaces
 * several round trips: one reads the chain head, the transfers the batch refers to and its
 * accounts; one writes the journal rows, the account totals and the chain link.
 * Whole columns travel as single array parameters (`unnest`), still bound, never interpolated.
 */
export interface LoadedBatch {
  head: { seq: bigint; mac: string; lastTransferSeq: bigint } | undefined;
  transfers: Transfer[];
  accounts: AccountState[];
}

interface TransferJson {
  seq: string;
  id: string;
  type: TransferType;
  debit_account_id: string;
  credit_account_id: string;
  currency: string;
  amount: string;
  pending_id: string | null;
  expires_at: string | null;
  code: string;
  user_data: unknown;
  batch_seq: string;
  created_at: string;
}

interface AccountJson {
  id: string;
  org_id: string | null;
  owner_type: OwnerType;
  owner_id: string;
  currency: string;
  purpose: string;
  debits_must_not_exceed_credits: boolean;
  balance_derived: boolean;
  debits_pending: string;
  debits_posted: string;
  credits_pending: string;
  credits_posted: string;
  allow_peer_transfers: boolean;
}

/**
 * Reads the head, the referenced transfers (by id or as resolutions) and the accounts. It runs
 * under the chain lock that every writer in every process takes first, and only writers change
 * account totals, so the rows read here cannot change before COMMIT: no row locks are needed
 * (and none can be taken in two orders).
 */
export async function loadBatch(
  tx: Db,
  params: { accountIds: string[]; transferIds: string[]; pendingIds: string[] },
): Promise<LoadedBatch> {
  const accountIds = pgArray(params.accountIds);
  const transferIds = pgArray(params.transferIds);
  const pendingIds = pgArray(params.pendingIds);
  const [row] = await executeRows<{
    head: { seq: string; mac: string; last: string } | null;
    transfers: TransferJson[] | null;
    accounts: AccountJson[] | null;
  }>(
    tx,
    sql`with locked as (
        select a.id, a.org_id, a.owner_type, a.owner_id, a.currency, a.purpose, a.debits_must_not_exceed_credits, a.balance_derived,
          a.debits_pending::text as debits_pending, a.debits_posted::text as debits_posted,
          a.credits_pending::text as credits_pending, a.credits_posted::text as credits_posted,
          coalesce(o.allow_peer_transfers, false) as allow_peer_transfers
        from ledger_accounts a left join orgs o on o.id = a.org_id
        where a.id in (select unnest(${accountIds}::uuid[])
                       union select p.debit_account_id from ledger_transfers p where p.id = any(${pendingIds}::text[])
                       union select p.credit_account_id from ledger_transfers p where p.id = any(${pendingIds}::text[]))
      )
      select
        (select json_build_object('seq', b.seq::text, 'mac', b.mac, 'last', b.last_transfer_seq::text)
           from ledger_batches b order by b.seq desc limit 1) as head,
        (select json_agg(t) from (
           select seq::text as seq, id, type, debit_account_id, credit_account_id, currency, amount::text as amount, pending_id,
             expires_at, code, user_data, batch_seq::text as batch_seq, created_at
           from ledger_transfers where id = any(${transferIds}::text[])
           union
           select seq::text, id, type, debit_account_id, credit_account_id, currency, amount::text, pending_id,
             expires_at, code, user_data, batch_seq::text, created_at
           from ledger_transfers where pending_id = any(${pendingIds}::text[])) t) as transfers,
        (select json_agg(locked) from locked) as accounts`,
  );
  return {
    head: row?.head
      ? { seq: BigInt(row.head.seq), mac: row.head.mac, lastTransferSeq: BigInt(row.head.last) }
      : undefined,
    transfers: (row?.transfers ?? []).map(toTransfer),
    accounts: (row?.accounts ?? []).map(toAccountState),
  };
}

function toTransfer(row: TransferJson): Transfer {
  return {
    seq: BigInt(row.seq),
    id: row.id,
    type: row.type,
    debitAccountId: row.debit_account_id,
    creditAccountId: row.credit_account_id,
    currency: row.currency,
    amount: BigInt(row.amount),
    pendingId: row.pending_id,
    expiresAt: row.expires_at === null ? null : new Date(row.expires_at),
    code: row.code,
    userData: row.user_data === null ? null : fromJsonValue(row.user_data),
    batchSeq: BigInt(row.batch_seq),
    createdAt: new Date(row.created_at),
  };
}

function toAccountState(row: AccountJson): AccountState {
  return {
    id: row.id,
    orgId: row.org_id,
    ownerType: row.owner_type,
    ownerId: row.owner_id,
    currency: row.currency,
    purpose: row.purpose,
    debitsMustNotExceedCredits: row.debits_must_not_exceed_credits,
    balanceDerived: row.balance_derived,
    debitsPending: BigInt(row.debits_pending),
    debitsPosted: BigInt(row.debits_posted),
    creditsPending: BigInt(row.credits_pending),
    creditsPosted: BigInt(row.credits_posted),
    allowPeerTransfers: row.allow_peer_transfers,
  };
}

export interface BatchWrite {
  batchSeq: bigint;
  prevMac: string;
  mac: string;
  createdAt: Date;
  rows: Transfer[];
  /** Each row's MAC, in the order of `rows`. */
  rowMacs: readonly string[];
  accounts: AccountState[];
  /** More data-modifying statements (audit rows, attached rows) to run in the same statement. */
  extra: SQL[];
  chainLockKey: number;
  /**
   * Set when the batch was decided from the writer's memory: the statement fails before it changes
   * anything (SQLSTATE 22012, {@link journalIdTakenCode}) if one of these ids is already in the
   * journal, so the batch is decided again on a fresh read.
   */
  guardNewIds?: readonly string[];
}

/** The journal rows as one array literal per column, gathered in one pass over the rows. */
function journalColumns(rows: readonly Transfer[], rowMacs: readonly string[]) {
  const count = rows.length;
  const seq: bigint[] = new Array<bigint>(count);
  const id: string[] = new Array<string>(count);
  const type: string[] = new Array<string>(count);
  const debit: string[] = new Array<string>(count);
  const credit: string[] = new Array<string>(count);
  const currency: string[] = new Array<string>(count);
  const amount: bigint[] = new Array<bigint>(count);
  const pendingId: (string | null)[] = new Array<string | null>(count);
  const expiresAt: (string | null)[] = new Array<string | null>(count);
  const code: string[] = new Array<string>(count);
  const userData: (string | null)[] = new Array<string | null>(count);
  for (let index = 0; index < count; index++) {
    const row = rows[index] as Transfer;
    seq[index] = row.seq;
    id[index] = row.id;
    type[index] = row.type;
    debit[index] = row.debitAccountId;
    credit[index] = row.creditAccountId;
    currency[index] = row.currency;
    amount[index] = row.amount;
    pendingId[index] = row.pendingId;
    expiresAt[index] = row.expiresAt === null ? null : isoTime(row.expiresAt);
    code[index] = row.code;
    userData[index] = stringifyJsonb(row.userData);
  }
  return {
    seq: pgArray(seq),
    id: pgArray(id),
    type: pgArray(type),
    debit: pgArray(debit),
    credit: pgArray(credit),
    currency: pgArray(currency),
    amount: pgArray(amount),
    pendingId: pgArray(pendingId),
    expiresAt: pgArray(expiresAt),
    code: pgArray(code),
    userData: pgArray(userData),
    rowMac: pgArray(rowMacs),
  };
}

/** The SQLSTATE a guarded batch fails with when one of its new ids is already taken (division by zero, raised on purpose). */
export const journalIdTakenCode = '22012';

/**
 * Inserts the journal rows, sets the touched accounts' totals and appends the chain link, in one
 * statement. The chain lock is an InitPlan that every modifying part waits on, so no row changes
 * before the lock is held (two writers never lock rows in two orders). If another writer committed
 * a batch since this one read its state, the batch and transfer seqs collide and it all fails.
 */
export async function writeBatch(tx: Db, batch: BatchWrite): Promise<void> {
  const { rows, accounts } = batch;
  const columns = journalColumns(rows, batch.rowMacs);
  const first = rows[0]?.seq ?? 0n;
  const last = rows[rows.length - 1]?.seq ?? 0n;
  const locked = sql`(select true from chain_lock)`;
  // The guard runs inside the lock's InitPlan, so a taken id fails the statement before any row changes.
  const guard =
    batch.guardNewIds === undefined
      ? sql``
      : sql`, 1 / (case when exists (select 1 from ledger_transfers where id = any(${pgArray([...batch.guardNewIds])}::text[])) then 0 else 1 end)`;
  await tx.execute(sql`with chain_lock as materialized (select pg_advisory_xact_lock(${batch.chainLockKey})${guard})
    , journal as (
      insert into ledger_transfers
        (seq, id, type, debit_account_id, credit_account_id, currency, amount, pending_id, expires_at, code, user_data, batch_seq, created_at, row_mac)
      select u.seq, u.id, u.type, u.debit, u.credit, u.currency, u.amount, u.pending_id, u.expires_at, u.code, u.user_data,
        ${batch.batchSeq.toString()}::bigint, ${batch.createdAt.toISOString()}::timestamptz, u.row_mac
      from unnest(${columns.seq}::bigint[], ${columns.id}::text[], ${columns.type}::text[],
        ${columns.debit}::uuid[], ${columns.credit}::uuid[], ${columns.currency}::text[],
        ${columns.amount}::bigint[], ${columns.pendingId}::text[], ${columns.expiresAt}::timestamptz[],
        ${columns.code}::text[], ${columns.userData}::jsonb[], ${columns.rowMac}::text[])
        as u(seq, id, type, debit, credit, currency, amount, pending_id, expires_at, code, user_data, row_mac)
      where ${locked}
      returning 1
    ), totals as (
      update ledger_accounts as a set debits_pending = v.dp, debits_posted = v.dpo, credits_pending = v.cp, credits_posted = v.cpo
      from unnest(${pgArray(accounts.map((a) => a.id))}::uuid[], ${pgArray(accounts.map((a) => a.debitsPending))}::bigint[],
        ${pgArray(accounts.map((a) => a.debitsPosted))}::bigint[], ${pgArray(accounts.map((a) => a.creditsPending))}::bigint[],
        ${pgArray(accounts.map((a) => a.creditsPosted))}::bigint[]) as v(id, dp, dpo, cp, cpo)
      where a.id = v.id and ${locked}
      returning 1
    )${sql.join(batch.extra.map((statement, index) => sql`, ${sql.raw(`extra_${index}`)} as (${statement})`))}
    insert into ledger_batches (seq, prev_mac, mac, first_transfer_seq, last_transfer_seq, transfer_count, created_at)
    select ${batch.batchSeq.toString()}::bigint, ${batch.prevMac}, ${batch.mac}, ${first.toString()}::bigint, ${last.toString()}::bigint,
      ${rows.length}::int, ${batch.createdAt.toISOString()}::timestamptz
    where ${locked}`);
}
