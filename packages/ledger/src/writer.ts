import { invariant } from '@tokenwise/core';
import type { Db } from '@tokenwise/db';
import { auditLog, ledgerTransfers } from '@tokenwise/db/schema';
import { sql } from 'drizzle-orm';
import type { PgTable } from 'drizzle-orm/pg-core';
import { loadBatch, writeBatch, type LoadedBatch } from './batch-sql';
import { evaluateBatch, type AccountState, type BatchState, type Decision, type Draft } from './evaluate';
import { LedgerOverloadedError, LedgerUnavailableError } from './errors';
import { accountCacheEntriesMax, batchAttemptsMax, batchOpsMax, queueOpsMax } from './limits';
import { batchMac, genesisMac, transferMac } from './mac';
import type { Account, LedgerOp, OpResult, Transfer } from './types';

/** Every writer, in every process, takes this lock first: one chain, and one lock order. */
const chainLockKey = 7_206_118_114;

export interface ChainHead {
  batchSeq: bigint;
  mac: string;
  lastTransferSeq: bigint;
}

export interface WriterDeps {
  db: Db;
  hmacKey: Buffer;
  clock: () => Date;
  /** Called after each commit with the new chain head (for the checkpoint export). */
  onCommit?: (head: ChainHead) => void;
  /** Test hook, inside the transaction just before COMMIT. */
  beforeCommit?: (db: Db) => Promise<void>;
}

interface Submission {
  groups: LedgerOp[][];
  opCount: number;
  resolve: (results: OpResult[]) => void;
  reject: (error: Error) => void;
}

/** Splits one submission into linked chains: a chain runs until an op without `linked`. */
export function chainsOf(ops: readonly LedgerOp[]): LedgerOp[][] {
  const groups: LedgerOp[][] = [];
  let current: LedgerOp[] = [];
  for (const op of ops) {
    current.push(op);
    if (op.linked !== true) {
      groups.push(current);
      current = [];
    }
  }
  if (current.length > 0) groups.push(current);
  return groups;
}

const transferColumns = {
  seq: ledgerTransfers.seq,
  id: ledgerTransfers.id,
  type: ledgerTransfers.type,
  debitAccountId: ledgerTransfers.debitAccountId,
  creditAccountId: ledgerTransfers.creditAccountId,
  currency: ledgerTransfers.currency,
  amount: ledgerTransfers.amount,
  pendingId: ledgerTransfers.pendingId,
  expiresAt: ledgerTransfers.expiresAt,
  code: ledgerTransfers.code,
  userData: ledgerTransfers.userData,
  batchSeq: ledgerTransfers.batchSeq,
  createdAt: ledgerTransfers.createdAt,
};
export { transferColumns };

/**
 * Group commit, as TigerBeetle batches: concurrent callers' operations are gathered into one
 * transaction while the previous one runs, decided in arrival order, and each caller gets its own
 * results. A failed operation fails alone unless linked.
 */
export class BatchWriter {
  private readonly queue: Submission[] = [];
  private queuedOps = 0;
  private running: Promise<void> | undefined;
  private readonly derivedAccounts = new Map<string, Account>();
  private closed = false;

  constructor(private readonly deps: WriterDeps) {}

  /** Queues operations for the next batch; resolves with one result per op, in order. */
  submit(ops: LedgerOp[]): Promise<OpResult[]> {
    if (this.closed) return Promise.reject(new LedgerUnavailableError('The ledger is closed.'));
    if (ops.length === 0) return Promise.resolve([]);
    invariant(ops.length <= batchOpsMax, `At most ${batchOpsMax} operations per submit.`);
    if (this.queuedOps + ops.length > queueOpsMax) {
      return Promise.reject(new LedgerOverloadedError(`The ledger has ${this.queuedOps} operations waiting; retry shortly with the same ids.`));
    }
    return new Promise((resolve, reject) => {
      this.queue.push({ groups: chainsOf(ops), opCount: ops.length, resolve, reject });
      this.queuedOps += ops.length;
      this.running ??= this.drain();
    });
  }

  /** Finishes every queued batch, then refuses new work. */
  async close(): Promise<void> {
    this.closed = true;
    await this.running;
  }

  private async drain(): Promise<void> {
    // Let callers in the same tick join the first batch.
    await new Promise((resolve) => setImmediate(resolve));
    try {
      while (this.queue.length > 0) {
        const batch: Submission[] = [];
        let ops = 0;
        while (this.queue.length > 0 && ops + (this.queue[0]?.opCount ?? 0) <= batchOpsMax) {
          const next = this.queue.shift() as Submission;
          ops += next.opCount;
          batch.push(next);
        }
        this.queuedOps -= ops;
        await this.executeWithRetry(batch);
      }
    } finally {
      this.running = undefined;
    }
  }

  private async executeWithRetry(batch: Submission[]): Promise<void> {
    let lastError: unknown;
    for (let attempt = 1; attempt <= batchAttemptsMax; attempt++) {
      try {
        const results = await this.execute(batch);
        batch.forEach((submission, index) => submission.resolve(results[index] as OpResult[]));
        return;
      } catch (error) {
        lastError = error;
        // Whatever failed (lost connection, deadlock, a unique race with another writer), the
        // transaction rolled back or committed whole; ids make the retry safe either way.
        this.derivedAccounts.clear();
        await new Promise((resolve) => setTimeout(resolve, 5 * 2 ** attempt));
      }
    }
    const cause = lastError instanceof Error ? lastError.message : String(lastError);
    const failure = new LedgerUnavailableError(`The ledger could not commit after ${batchAttemptsMax} attempts (${cause.slice(0, 300)}). Nothing was applied twice; retry with the same ids.`);
    for (const submission of batch) submission.reject(failure);
  }

  private async execute(batch: Submission[]): Promise<OpResult[][]> {
    const groups = batch.flatMap((submission) => submission.groups);
    const ops = groups.flat();
    const { results, head } = await this.deps.db.transaction(async (tx) => {
      // The chain lock comes first, in its own statement, so that what follows reads every batch
      // committed before it (each statement takes a fresh snapshot under READ COMMITTED).
      await tx.execute(sql`select pg_advisory_xact_lock(${chainLockKey})`);
      const now = this.deps.clock();
      const { state, head: previous } = await this.loadState(tx, ops, now);
      const { decisions, drafts } = evaluateBatch(groups, state);
      const batchSeq = (previous?.seq ?? 0n) + 1n;
      let nextSeq = (previous?.lastTransferSeq ?? 0n) + 1n;
      const transfers = new Map<Draft, Transfer>();
      for (const draft of drafts) {
        const { opIndex: _opIndex, ...columns } = draft;
        transfers.set(draft, { ...columns, seq: nextSeq++, batchSeq, createdAt: now });
      }
      let written: ChainHead | undefined;
      if (drafts.length > 0) {
        written = await this.write(tx, { batchSeq, prevMac: previous?.mac ?? genesisMac, now, transfers: [...transfers.values()], state, ops, decisions: decisions.flat() });
      }
      if (this.deps.beforeCommit) await this.deps.beforeCommit(tx);
      return { results: this.results(batch, decisions, transfers), head: written };
    });
    if (head !== undefined) this.deps.onCommit?.(head);
    return results;
  }

  private async loadState(tx: Db, ops: LedgerOp[], now: Date): Promise<{ state: BatchState; head: LoadedBatch['head'] }> {
    const accountIds = new Set<string>();
    const transferIds = new Set<string>();
    const pendingIds = new Set<string>();
    for (const op of ops) {
      transferIds.add(op.id);
      if (op.type === 'transfer' || op.type === 'pending') {
        accountIds.add(op.debitAccountId);
        accountIds.add(op.creditAccountId);
      } else {
        pendingIds.add(op.pendingId);
        transferIds.add(op.pendingId);
      }
    }
    const accounts = new Map<string, AccountState>();
    for (const id of accountIds) {
      const derived = this.derivedAccounts.get(id);
      if (derived === undefined) continue;
      accounts.set(id, { ...derived, debitsPending: 0n, debitsPosted: 0n, creditsPending: 0n, creditsPosted: 0n, allowPeerTransfers: false });
      accountIds.delete(id);
    }
    const loaded = await loadBatch(tx, { accountIds: [...accountIds], transferIds: [...transferIds], pendingIds: [...pendingIds] });
    for (const account of loaded.accounts) {
      accounts.set(account.id, account);
      if (account.balanceDerived) {
        if (this.derivedAccounts.size >= accountCacheEntriesMax) this.derivedAccounts.clear();
        const { debitsPending: _a, debitsPosted: _b, creditsPending: _c, creditsPosted: _d, allowPeerTransfers: _e, ...meta } = account;
        this.derivedAccounts.set(account.id, meta);
      }
    }
    const existing = new Map<string, Transfer>();
    const resolutions = new Map<string, Transfer['type']>();
    for (const transfer of loaded.transfers) {
      if (transferIds.has(transfer.id)) existing.set(transfer.id, transfer);
      if (transfer.pendingId !== null && pendingIds.has(transfer.pendingId)) resolutions.set(transfer.pendingId, transfer.type);
    }
    return { state: { accounts, existing, resolutions, now }, head: loaded.head };
  }

  private async write(
    tx: Db,
    batch: { batchSeq: bigint; prevMac: string; now: Date; transfers: Transfer[]; state: BatchState; ops: LedgerOp[]; decisions: Decision[] },
  ): Promise<ChainHead> {
    const rows = batch.transfers.map((transfer) => ({ ...transfer, rowMac: transferMac(this.deps.hmacKey, transfer) }));
    const touched = new Set(batch.transfers.flatMap((transfer) => [transfer.debitAccountId, transfer.creditAccountId]));
    const accounts = [...touched].map((id) => batch.state.accounts.get(id)).filter((account): account is AccountState => account !== undefined && !account.balanceDerived);
    const first = rows[0];
    const last = rows[rows.length - 1];
    invariant(first !== undefined && last !== undefined, 'a written batch has transfers');
    const link = { seq: batch.batchSeq, prevMac: batch.prevMac, firstTransferSeq: first.seq, lastTransferSeq: last.seq, transferCount: rows.length, createdAt: batch.now };
    const mac = batchMac(this.deps.hmacKey, link, rows.map((row) => row.rowMac));
    await writeBatch(tx, { batchSeq: batch.batchSeq, prevMac: batch.prevMac, mac, createdAt: batch.now, rows, accounts });
    const audits = batch.ops.flatMap((op, index) => {
      const decision = batch.decisions[index];
      if (op.audit === undefined || decision === undefined || !decision.ok || !('draft' in decision) || decision.duplicate === true) return [];
      const transfer = batch.transfers.find((candidate) => candidate.id === op.id);
      return [{ ...op.audit, entityType: op.audit.entityType ?? 'ledger_transfer', entityId: op.audit.entityId ?? op.id, before: null, after: transfer ?? null }];
    });
    if (audits.length > 0) await tx.insert(auditLog).values(audits);
    await this.writeAttachments(tx, batch.ops, batch.decisions);
    return { batchSeq: batch.batchSeq, mac, lastTransferSeq: last.seq };
  }

  private async writeAttachments(tx: Db, ops: LedgerOp[], decisions: Decision[]): Promise<void> {
    const byTable = new Map<PgTable, Record<string, unknown>[]>();
    ops.forEach((op, index) => {
      const decision = decisions[index];
      if (op.attach === undefined || decision === undefined || !decision.ok || !('draft' in decision) || decision.duplicate === true) return;
      for (const { table, row } of op.attach) byTable.set(table, [...(byTable.get(table) ?? []), row]);
    });
    for (const [table, rows] of byTable) await tx.insert(table).values(rows).onConflictDoNothing();
  }

  private results(batch: Submission[], decisions: Decision[][], transfers: Map<Draft, Transfer>): OpResult[][] {
    const out: OpResult[][] = [];
    let groupIndex = 0;
    for (const submission of batch) {
      const results: OpResult[] = [];
      for (let i = 0; i < submission.groups.length; i++) {
        for (const decision of decisions[groupIndex++] ?? []) results.push(toResult(decision, transfers));
      }
      invariant(results.length === submission.opCount, 'one result per submitted op');
      out.push(results);
    }
    return out;
  }
}

function toResult(decision: Decision, transfers: Map<Draft, Transfer>): OpResult {
  if (!decision.ok) return decision;
  if ('existing' in decision) return { ok: true, transfer: decision.existing, duplicate: true };
  const transfer = transfers.get(decision.draft);
  invariant(transfer !== undefined, 'every accepted draft was written');
  return { ok: true, transfer, duplicate: decision.duplicate === true };
}
