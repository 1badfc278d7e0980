import { invariant } from '@tokenwise/core';
import { pgErrorOf, type Db } from '@tokenwise/db';
import { auditLog } from '@tokenwise/db/schema';
import { sql, type SQL } from 'drizzle-orm';
import { performance } from 'node:perf_hooks';
import { isOutage, refusesItsContent } from './batch-failures';
import { attachmentInserts, resultsOf } from './batch-results';
import { journalIdTakenCode, loadBatch, writeBatch } from './batch-sql';
import { evaluateBatch, type AccountState, type BatchState, type Decision, type Draft } from './evaluate';
import { LedgerOverloadedError, LedgerRefusedError, LedgerUnavailableError } from './errors';
import { accountCacheEntriesMax, batchAttemptsMax, batchOpsMax, queueOpsMax } from './limits';
import { derivedState, redecidedBackoffMs, WriterCache, type LoadedState } from './writer-cache';
import { batchMac, genesisMac, transferMac } from './mac';
import { chainsOf, type Submission } from './submission';
import type { Account, LedgerOp, OpResult, Transfer } from './types';

/**
 * A draft as the journal row it becomes. Written out field by field: built by rest and spread, each
 * row got a hidden class of its own in V8 (26 classes for 30 rows), so the writer's memory held
 * thousands of them and every read of a row's fields in the batch path went megamorphic.
 */
function numbered(draft: Draft, seq: bigint, batchSeq: bigint, createdAt: Date): Transfer {
  return {
    seq,
    id: draft.id,
    type: draft.type,
    debitAccountId: draft.debitAccountId,
    creditAccountId: draft.creditAccountId,
    currency: draft.currency,
    amount: draft.amount,
    pendingId: draft.pendingId,
    expiresAt: draft.expiresAt,
    code: draft.code,
    userData: draft.userData,
    batchSeq,
    createdAt,
  };
}

/**
 * Every writer, in every process, takes this transaction-level advisory lock first: one chain, and
 * one lock order. Exported for tests that hold it to stall every writer.
 */
export const chainLockKey = 7_206_118_114;

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
  /** Least time between the starts of two batches (default 0): more operations per statement, less work per operation. */
  batchIntervalMs?: number;
}

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
  /** The state this writer left behind: lets a batch skip its read while no other writer commits. */
  private readonly cache = new WriterCache();
  private closed = false;
  /** When the last batch started (batchIntervalMs counts from it). */
  private lastBatchAt = -Infinity;
  /** Cumulative counters for /metrics and benchmarks (`cached`: batches decided without a read). */
  readonly stats = {
    batches: 0,
    ops: 0,
    retries: 0,
    splits: 0,
    cached: 0,
    loadMs: 0,
    writeMs: 0,
    statementMs: 0,
    statementMaxMs: 0,
  };

  constructor(private readonly deps: WriterDeps) {}

  /** Queues operations for the next batch; resolves with one result per op, in order. */
  submit(ops: LedgerOp[]): Promise<OpResult[]> {
    if (this.closed) return Promise.reject(new LedgerUnavailableError('The ledger is closed.'));
    if (ops.length === 0) return Promise.resolve([]);
    invariant(ops.length <= batchOpsMax, `At most ${batchOpsMax} operations per submit.`);
    if (this.queuedOps + ops.length > queueOpsMax) {
      return Promise.reject(
        new LedgerOverloadedError(
          `The ledger has ${this.queuedOps} operations waiting; retry shortly with the same ids.`,
        ),
      );
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
      const intervalMs = this.deps.batchIntervalMs ?? 0;
      while (this.queue.length > 0) {
        const waitMs = this.lastBatchAt + intervalMs - performance.now();
        if (waitMs >= 1) await new Promise((resolve) => setTimeout(resolve, waitMs));
        this.lastBatchAt = performance.now();
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
        // First optimistically (two round trips); after a conflict or failure, under the chain
        // lock for the whole batch, so a busy multi-process deployment always makes progress.
        if (attempt > 1) this.stats.retries++;
        const results = await this.execute(batch, attempt === 1 ? 'optimistic' : 'locked');
        this.stats.batches++;
        this.stats.ops += batch.reduce((sum, submission) => sum + submission.opCount, 0);
        batch.forEach((submission, index) => submission.resolve(results[index] as OpResult[]));
        return;
      } catch (error) {
        lastError = error;
        // Whatever failed (lost connection, a unique race with another writer), the statement or
        // transaction rolled back or committed whole; ids make the retry safe either way.
        this.derivedAccounts.clear();
        this.cache.invalidate({ suspend: true });
        // Refused under the lock for what it carries, not for a race or an outage: the same batch
        // would fail again. Split it, so only the submission that carries the bad value fails.
        if (attempt > 1 && refusesItsContent(error)) return this.split(batch, error);
        if (attempt > 1) await new Promise((resolve) => setTimeout(resolve, 5 * 2 ** attempt));
      }
    }
    // An outage fails everyone alike; anything else may be one submission's doing: find it.
    if (batch.length > 1 && !isOutage(lastError)) return this.split(batch, lastError);
    const cause = lastError instanceof Error ? lastError.message : String(lastError);
    const failure = new LedgerUnavailableError(
      `The ledger could not commit after ${batchAttemptsMax} attempts (${cause.slice(0, 300)}). Nothing was applied twice; retry with the same ids.`,
    );
    for (const submission of batch) submission.reject(failure);
  }

  /**
   * A batch that cannot commit is halved and each half tried again, down to single submissions:
   * one bad operation fails alone, with the database's reason, and every neighbour commits.
   */
  private async split(batch: Submission[], error: unknown): Promise<void> {
    this.stats.splits++;
    if (batch.length === 1) {
      const submission = batch[0] as Submission;
      const cause = error instanceof Error ? error.message : String(error);
      submission.reject(
        refusesItsContent(error)
          ? new LedgerRefusedError(
              `The ledger refused these operations for what they carry (${cause.slice(0, 300)}); nothing was applied. Retrying the same content fails again.`,
            )
          : new LedgerUnavailableError(
              `The ledger could not commit after ${batchAttemptsMax} attempts (${cause.slice(0, 300)}). Nothing was applied twice; retry with the same ids.`,
            ),
      );
      return;
    }
    const half = Math.ceil(batch.length / 2);
    await this.executeWithRetry(batch.slice(0, half));
    await this.executeWithRetry(batch.slice(half));
  }

  /**
   * One batch. Optimistic mode reads without a lock and writes everything in one statement that
   * takes the chain lock before it changes a row: if another process committed a batch after the
   * read, the new batch's seq collides with it and the statement fails whole (then the batch is
   * retried in locked mode: lock, read, write in one transaction).
   *
   * While this writer is the only one committing, optimistic mode skips even the read: the state
   * it left behind (account totals, its recent transfers, the chain head) is what a read would
   * return, and the write statement proves it: a batch committed by anyone else since takes the
   * seq this one writes. Ids the cache does not know are assumed new (the journal's unique id
   * refuses them otherwise), and any refusal is decided again on a fresh read.
   */
  private async execute(batch: Submission[], mode: 'optimistic' | 'locked'): Promise<OpResult[][]> {
    const groups = batch.flatMap((submission) => submission.groups);
    const ops = groups.flat();
    const run = async (db: Db, fromCache: boolean) => {
      const now = this.deps.clock();
      const loadStarted = performance.now();
      const loaded = fromCache
        ? this.cache.stateFor(ops, now, this.derivedAccounts)
        : await this.loadState(db, ops, now);
      if (loaded === undefined) return undefined;
      const { state, head: previous } = loaded;
      const writeStarted = performance.now();
      this.stats.loadMs += writeStarted - loadStarted;
      const { decisions, drafts } = evaluateBatch(groups, state);
      // A refusal must rest on what the database holds, not on what this writer remembers.
      if (fromCache && decisions.some((group) => group.some((decision) => !decision.ok))) {
        this.cache.pause(redecidedBackoffMs);
        return undefined;
      }
      const batchSeq = (previous?.seq ?? 0n) + 1n;
      let nextSeq = (previous?.lastTransferSeq ?? 0n) + 1n;
      const transfers = new Map<Draft, Transfer>();
      for (const draft of drafts) transfers.set(draft, numbered(draft, nextSeq++, batchSeq, now));
      let written: ChainHead | undefined;
      if (drafts.length > 0) {
        try {
          written = await this.write(db, {
            batchSeq,
            prevMac: previous?.mac ?? genesisMac,
            now,
            transfers: [...transfers.values()],
            state,
            ops,
            decisions: decisions.flat(),
            guardNewIds: fromCache ? [...transfers.values()].map((transfer) => transfer.id) : undefined,
          });
        } catch (error) {
          // An id the memory did not know is in the journal (a client's retry of an old request):
          // nothing was written; decide the batch again on a fresh read.
          if (fromCache && pgErrorOf(error)?.code === journalIdTakenCode) {
            this.cache.pause(redecidedBackoffMs);
            return undefined;
          }
          throw error;
        }
      }
      this.stats.writeMs += performance.now() - writeStarted;
      return {
        results: resultsOf(batch, decisions, transfers),
        head: written,
        loaded,
        written: [...transfers.values()],
      };
    };
    const outcome =
      mode === 'optimistic'
        ? ((await run(this.deps.db, this.cache.usable())) ?? (await run(this.deps.db, false)))
        : await this.deps.db.transaction(async (tx) => {
            // The lock first, in its own statement, so the reads after it see every batch
            // committed before it (each statement takes a fresh snapshot under READ COMMITTED).
            await tx.execute(sql`select pg_advisory_xact_lock(${chainLockKey})`);
            return run(tx, false);
          });
    invariant(outcome !== undefined, 'a batch decided on a fresh read always has an outcome');
    const { results, head, loaded, written } = outcome;
    if (loaded.fromCache) this.stats.cached++;
    this.cache.remember({
      loaded,
      head:
        head === undefined ? undefined : { seq: head.batchSeq, mac: head.mac, lastTransferSeq: head.lastTransferSeq },
      written,
    });
    if (head !== undefined) this.deps.onCommit?.(head);
    return results;
  }

  private async loadState(tx: Db, ops: LedgerOp[], now: Date): Promise<LoadedState> {
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
      accounts.set(id, derivedState(derived));
      accountIds.delete(id);
    }
    const loaded = await loadBatch(tx, {
      accountIds: [...accountIds],
      transferIds: [...transferIds],
      pendingIds: [...pendingIds],
    });
    for (const account of loaded.accounts) {
      accounts.set(account.id, account);
      if (account.balanceDerived) {
        if (this.derivedAccounts.size >= accountCacheEntriesMax) this.derivedAccounts.clear();
        const {
          debitsPending: _a,
          debitsPosted: _b,
          creditsPending: _c,
          creditsPosted: _d,
          allowPeerTransfers: _e,
          ...meta
        } = account;
        this.derivedAccounts.set(account.id, meta);
      }
    }
    const existing = new Map<string, Transfer>();
    const resolutions = new Map<string, Transfer['type']>();
    for (const transfer of loaded.transfers) {
      if (transferIds.has(transfer.id)) existing.set(transfer.id, transfer);
      if (transfer.pendingId !== null && pendingIds.has(transfer.pendingId))
        resolutions.set(transfer.pendingId, transfer.type);
    }
    // Pending transfers read as the target of a post or void: their resolution is known too.
    const pendings = [...pendingIds].flatMap((id) => {
      const transfer = existing.get(id);
      return transfer === undefined ? [] : [{ transfer, resolution: resolutions.get(id) }];
    });
    return { state: { accounts, existing, resolutions, now }, head: loaded.head, fromCache: false, pendings };
  }

  private async write(
    tx: Db,
    batch: {
      batchSeq: bigint;
      prevMac: string;
      now: Date;
      transfers: Transfer[];
      state: BatchState;
      ops: LedgerOp[];
      decisions: Decision[];
      guardNewIds: string[] | undefined;
    },
  ): Promise<ChainHead> {
    const rows = batch.transfers;
    // Beside the rows, not spread into copies of them: a copy of a 13-field row cost about a microsecond.
    const rowMacs = rows.map((transfer) => transferMac(this.deps.hmacKey, transfer));
    const touched = new Set(batch.transfers.flatMap((transfer) => [transfer.debitAccountId, transfer.creditAccountId]));
    const accounts = [...touched]
      .map((id) => batch.state.accounts.get(id))
      .filter((account): account is AccountState => account !== undefined && !account.balanceDerived);
    const first = rows[0];
    const last = rows[rows.length - 1];
    invariant(first !== undefined && last !== undefined, 'a written batch has transfers');
    const link = {
      seq: batch.batchSeq,
      prevMac: batch.prevMac,
      firstTransferSeq: first.seq,
      lastTransferSeq: last.seq,
      transferCount: rows.length,
      createdAt: batch.now,
    };
    const mac = batchMac(this.deps.hmacKey, link, rowMacs);
    const audits = batch.ops.flatMap((op, index) => {
      const decision = batch.decisions[index];
      if (
        op.audit === undefined ||
        decision === undefined ||
        !decision.ok ||
        !('draft' in decision) ||
        decision.duplicate === true
      )
        return [];
      const transfer = batch.transfers.find((candidate) => candidate.id === op.id);
      return [
        {
          ...op.audit,
          entityType: op.audit.entityType ?? 'ledger_transfer',
          entityId: op.audit.entityId ?? op.id,
          before: null,
          after: transfer ?? null,
        },
      ];
    });
    const extra: SQL[] = attachmentInserts(batch.ops, batch.decisions);
    if (audits.length > 0) extra.push(tx.insert(auditLog).values(audits).getSQL());
    const sent = performance.now();
    await writeBatch(tx, {
      batchSeq: batch.batchSeq,
      prevMac: batch.prevMac,
      mac,
      createdAt: batch.now,
      rows,
      rowMacs,
      accounts,
      extra,
      chainLockKey,
      guardNewIds: batch.guardNewIds,
    });
    const statementMs = performance.now() - sent;
    this.stats.statementMs += statementMs;
    this.stats.statementMaxMs = Math.max(this.stats.statementMaxMs, statementMs);
    return { batchSeq: batch.batchSeq, mac, lastTransferSeq: last.seq };
  }

  /** Each table's attached rows as one INSERT (one parameter), to run inside the batch's write statement. */
}
