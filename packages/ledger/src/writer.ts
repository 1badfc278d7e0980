import { invariant } from '@tokenwise/core';
import type { Db } from '@tokenwise/db';
import { auditLog, ledgerAccounts, ledgerBatches, ledgerTransfers, orgs } from '@tokenwise/db/schema';
import { desc, eq, inArray, sql } from 'drizzle-orm';
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
    return this.deps.db.transaction(async (tx) => {
      await tx.execute(sql`select pg_advisory_xact_lock(${chainLockKey})`);
      const now = this.deps.clock();
      const [head] = await tx
        .select({ seq: ledgerBatches.seq, mac: ledgerBatches.mac, lastTransferSeq: ledgerBatches.lastTransferSeq })
        .from(ledgerBatches)
        .orderBy(desc(ledgerBatches.seq))
        .limit(1);
      const state = await this.loadState(tx, ops, now);
      const { decisions, drafts } = evaluateBatch(groups, state);
      const batchSeq = (head?.seq ?? 0n) + 1n;
      let nextSeq = (head?.lastTransferSeq ?? 0n) + 1n;
      const transfers = new Map<Draft, Transfer>();
      for (const draft of drafts) {
        const { opIndex: _opIndex, ...columns } = draft;
        transfers.set(draft, { ...columns, seq: nextSeq++, batchSeq, createdAt: now });
      }
      let newHead: ChainHead | undefined;
      if (drafts.length > 0) {
        newHead = await this.write(tx, { batchSeq, prevMac: head?.mac ?? genesisMac, now, transfers: [...transfers.values()], state, ops, decisions: decisions.flat() });
      }
      if (this.deps.beforeCommit) await this.deps.beforeCommit(tx);
      const results = this.results(batch, decisions, transfers);
      if (newHead !== undefined) {
        const committed = newHead;
        // Reported after COMMIT by the caller of transaction(); see the finally below.
        queueMicrotask(() => this.deps.onCommit?.(committed));
      }
      return results;
    });
  }

  private async loadState(tx: Db, ops: LedgerOp[], now: Date): Promise<BatchState> {
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
    const existingRows = await tx.select(transferColumns).from(ledgerTransfers).where(inArray(ledgerTransfers.id, [...transferIds]));
    const existing = new Map(existingRows.map((row) => [row.id, row as Transfer]));
    for (const row of existingRows) {
      if (row.type === 'pending' || row.type === 'post' || row.type === 'void') {
        accountIds.add(row.debitAccountId);
        accountIds.add(row.creditAccountId);
      }
    }
    const resolutions = new Map<string, Transfer['type']>();
    if (pendingIds.size > 0) {
      const rows = await tx
        .select({ pendingId: ledgerTransfers.pendingId, type: ledgerTransfers.type })
        .from(ledgerTransfers)
        .where(inArray(ledgerTransfers.pendingId, [...pendingIds]));
      for (const row of rows) if (row.pendingId !== null) resolutions.set(row.pendingId, row.type);
    }
    return { accounts: await this.lockAccounts(tx, accountIds), existing, resolutions, now };
  }

  /** Locks the batch's materialized accounts in id order; derived accounts come from memory. */
  private async lockAccounts(tx: Db, ids: Set<string>): Promise<Map<string, AccountState>> {
    const accounts = new Map<string, AccountState>();
    const toLoad: string[] = [];
    for (const id of ids) {
      const derived = this.derivedAccounts.get(id);
      if (derived === undefined) toLoad.push(id);
      else accounts.set(id, { ...derived, debitsPending: 0n, debitsPosted: 0n, creditsPending: 0n, creditsPosted: 0n, allowPeerTransfers: false });
    }
    if (toLoad.length === 0) return accounts;
    const rows = await tx
      .select({
        id: ledgerAccounts.id,
        orgId: ledgerAccounts.orgId,
        ownerType: ledgerAccounts.ownerType,
        ownerId: ledgerAccounts.ownerId,
        currency: ledgerAccounts.currency,
        purpose: ledgerAccounts.purpose,
        debitsMustNotExceedCredits: ledgerAccounts.debitsMustNotExceedCredits,
        balanceDerived: ledgerAccounts.balanceDerived,
        debitsPending: ledgerAccounts.debitsPending,
        debitsPosted: ledgerAccounts.debitsPosted,
        creditsPending: ledgerAccounts.creditsPending,
        creditsPosted: ledgerAccounts.creditsPosted,
        allowPeerTransfers: orgs.allowPeerTransfers,
      })
      .from(ledgerAccounts)
      .leftJoin(orgs, eq(orgs.id, ledgerAccounts.orgId))
      .where(inArray(ledgerAccounts.id, toLoad.sort()))
      .orderBy(ledgerAccounts.id)
      .for('update', { of: ledgerAccounts });
    for (const row of rows) {
      const state: AccountState = { ...row, allowPeerTransfers: row.allowPeerTransfers ?? false };
      accounts.set(row.id, state);
      if (row.balanceDerived) {
        if (this.derivedAccounts.size >= accountCacheEntriesMax) this.derivedAccounts.clear();
        const { debitsPending: _a, debitsPosted: _b, creditsPending: _c, creditsPosted: _d, allowPeerTransfers: _e, ...meta } = state;
        this.derivedAccounts.set(row.id, meta);
      }
    }
    return accounts;
  }

  private async write(
    tx: Db,
    batch: { batchSeq: bigint; prevMac: string; now: Date; transfers: Transfer[]; state: BatchState; ops: LedgerOp[]; decisions: Decision[] },
  ): Promise<ChainHead> {
    const rows = batch.transfers.map((transfer) => ({ ...transfer, rowMac: transferMac(this.deps.hmacKey, transfer) }));
    await tx.insert(ledgerTransfers).values(rows);
    const touched = new Set(batch.transfers.flatMap((transfer) => [transfer.debitAccountId, transfer.creditAccountId]));
    const updates = [...touched].map((id) => batch.state.accounts.get(id)).filter((account): account is AccountState => account !== undefined && !account.balanceDerived);
    if (updates.length > 0) {
      const values = sql.join(
        updates.map((a) => sql`(${a.id}::uuid, ${a.debitsPending.toString()}::bigint, ${a.debitsPosted.toString()}::bigint, ${a.creditsPending.toString()}::bigint, ${a.creditsPosted.toString()}::bigint)`),
        sql`, `,
      );
      await tx.execute(sql`update ledger_accounts as a set debits_pending = v.dp, debits_posted = v.dpo, credits_pending = v.cp, credits_posted = v.cpo
        from (values ${values}) as v(id, dp, dpo, cp, cpo) where a.id = v.id`);
    }
    const audits = batch.ops.flatMap((op, index) => {
      const decision = batch.decisions[index];
      if (op.audit === undefined || decision === undefined || !decision.ok || !('draft' in decision) || decision.duplicate === true) return [];
      const transfer = batch.transfers.find((candidate) => candidate.id === op.id);
      return [{ ...op.audit, entityType: op.audit.entityType ?? 'ledger_transfer', entityId: op.audit.entityId ?? op.id, before: null, after: transfer ?? null }];
    });
    if (audits.length > 0) await tx.insert(auditLog).values(audits);
    const first = rows[0];
    const last = rows[rows.length - 1];
    invariant(first !== undefined && last !== undefined, 'a written batch has transfers');
    const link = { seq: batch.batchSeq, prevMac: batch.prevMac, firstTransferSeq: first.seq, lastTransferSeq: last.seq, transferCount: rows.length, createdAt: batch.now };
    const mac = batchMac(this.deps.hmacKey, link, rows.map((row) => row.rowMac));
    await tx.insert(ledgerBatches).values({ ...link, mac });
    return { batchSeq: batch.batchSeq, mac, lastTransferSeq: last.seq };
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
