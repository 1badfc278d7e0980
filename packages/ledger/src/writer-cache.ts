import { setBounded } from '@tokenwise/core';
import type { TransferType } from '@tokenwise/db/schema';
import { performance } from 'node:perf_hooks';
import type { AccountState, BatchState } from './evaluate';
import { accountCacheEntriesMax } from './limits';
import type { Account, LedgerOp, Transfer } from './types';

export interface CachedHead {
  seq: bigint;
  mac: string;
  lastTransferSeq: bigint;
}

/** What a batch is decided on: read from the database, or remembered by this writer. */
export interface LoadedState {
  state: BatchState;
  head: CachedHead | undefined;
  fromCache: boolean;
  /** Pending transfers read as the target of a post or void, with their resolution (undefined: open). */
  pendings: { transfer: Transfer; resolution: TransferType | undefined }[];
}

/**
 * How long an account read from the database may be decided on from memory. Its totals change only
 * through writers (whose commits this writer detects), but the org's peer-transfer policy is an
 * ordinary column: an admin's change takes effect within this time.
 */
export const cachedAccountFreshMs = 2_000;
/** Recent pending transfers remembered for their posts and voids: about 10 s of holds at 1,000 holds/s. */
export const cachedTransfersMax = 10_000;
/** After another writer's commit is seen, batches are read from the database for this long. */
export const foreignCommitBackoffMs = 1_000;
/** After a batch decided from memory had to be decided again, batches are read for this long. */
export const redecidedBackoffMs = 250;

/**
 * A derived-balance account as evaluation sees it: no totals of its own. Written out field by field,
 * in the order the batch read builds accounts: by spread, every state got a V8 hidden class of its
 * own (60 of 60 in a probe), and evaluation's reads of every account went megamorphic.
 */
export function derivedState(account: Account): AccountState {
  return {
    id: account.id,
    orgId: account.orgId,
    ownerType: account.ownerType,
    ownerId: account.ownerId,
    currency: account.currency,
    purpose: account.purpose,
    debitsMustNotExceedCredits: account.debitsMustNotExceedCredits,
    balanceDerived: account.balanceDerived,
    debitsPending: 0n,
    debitsPosted: 0n,
    creditsPending: 0n,
    creditsPosted: 0n,
    allowPeerTransfers: false,
  };
}

/**
 * The ledger state one writer left behind, as of the chain head it last committed or read.
 * It is only ever a proposal: the write statement takes the seq after that head, so if any other
 * writer committed since, the write fails whole and the batch is decided again on a fresh read.
 */
export class WriterCache {
  private head: CachedHead | undefined;
  private readonly accounts = new Map<string, { state: AccountState; readAt: number }>();
  /** Committed pending transfers by id. */
  private readonly transfers = new Map<string, Transfer>();
  /** Pending transfer id -> its resolution (null: still open), for pending transfers whose resolution is known. */
  private readonly pendings = new Map<string, TransferType | null>();
  private suspendedUntil = 0;

  constructor(private readonly monotonicNow: () => number = () => performance.now()) {}

  usable(): boolean {
    return this.head !== undefined && this.monotonicNow() >= this.suspendedUntil;
  }

  /**
   * Reads from the database for a while without forgetting anything: a batch decided from memory
   * had to be decided again (a refusal, or a client's retry of an id memory did not know), and
   * more of the same traffic would pay twice.
   */
  pause(ms: number): void {
    this.suspendedUntil = Math.max(this.suspendedUntil, this.monotonicNow() + ms);
  }

  /** Forgets everything; `suspend` also reads from the database for a while (another writer is active). */
  invalidate(options: { suspend: boolean }): void {
    this.head = undefined;
    this.accounts.clear();
    this.transfers.clear();
    this.pendings.clear();
    if (options.suspend) this.suspendedUntil = this.monotonicNow() + foreignCommitBackoffMs;
  }

  /** The batch's state from memory, or undefined when anything it touches is not known well enough. */
  stateFor(
    ops: readonly LedgerOp[],
    now: Date,
    derivedAccounts: ReadonlyMap<string, Account>,
  ): LoadedState | undefined {
    if (!this.usable()) return undefined;
    const at = this.monotonicNow();
    const accounts = new Map<string, AccountState>();
    const existing = new Map<string, Transfer>();
    const resolutions = new Map<string, TransferType>();
    const known = (id: string): boolean => {
      if (accounts.has(id)) return true;
      const derived = derivedAccounts.get(id);
      if (derived !== undefined) {
        accounts.set(id, derivedState(derived));
        return true;
      }
      const cached = this.accounts.get(id);
      if (cached === undefined || at - cached.readAt > cachedAccountFreshMs) return false;
      // A copy: evaluation changes it to the batch's end state, which is remembered only on commit.
      accounts.set(id, { ...cached.state });
      return true;
    };
    for (const op of ops) {
      const prior = this.transfers.get(op.id);
      if (prior !== undefined) existing.set(op.id, prior);
      if (op.type === 'transfer' || op.type === 'pending') {
        if (!known(op.debitAccountId) || !known(op.creditAccountId)) return undefined;
        continue;
      }
      const pending = this.transfers.get(op.pendingId);
      const resolution = this.pendings.get(op.pendingId);
      if (pending === undefined || resolution === undefined) return undefined;
      existing.set(op.pendingId, pending);
      if (resolution !== null) resolutions.set(op.pendingId, resolution);
      if (!known(pending.debitAccountId) || !known(pending.creditAccountId)) return undefined;
    }
    return { state: { accounts, existing, resolutions, now }, head: this.head, fromCache: true, pendings: [] };
  }

  /** After a batch committed (or decided without writing): its end state becomes what this writer knows. */
  remember(batch: { loaded: LoadedState; head: CachedHead | undefined; written: readonly Transfer[] }): void {
    const { loaded } = batch;
    const at = this.monotonicNow();
    if (!loaded.fromCache) {
      // The read shows the chain where this writer left it, or another writer moved it: then
      // nothing remembered from before can be trusted.
      const moved =
        this.head === undefined ||
        loaded.head === undefined ||
        loaded.head.seq !== this.head.seq ||
        loaded.head.mac !== this.head.mac;
      if (moved) this.invalidate({ suspend: false });
      this.head = loaded.head;
    }
    if (batch.head !== undefined) this.head = batch.head;
    if (this.head === undefined) return;
    for (const [id, account] of loaded.state.accounts) {
      if (account.balanceDerived) continue;
      const readAt = loaded.fromCache ? (this.accounts.get(id)?.readAt ?? Number.NEGATIVE_INFINITY) : at;
      setBounded(this.accounts, id, { state: { ...account }, readAt }, accountCacheEntriesMax);
    }
    for (const { transfer, resolution } of loaded.pendings) {
      setBounded(this.transfers, transfer.id, transfer, cachedTransfersMax);
      setBounded(this.pendings, transfer.id, resolution ?? null, cachedTransfersMax);
    }
    // Only pending transfers are kept: their posts and voids are decided from them. Any other id
    // the memory does not know is taken as new, and the write statement's guard catches a retry.
    for (const [id, transfer] of loaded.state.existing)
      if (transfer.type === 'pending') setBounded(this.transfers, id, transfer, cachedTransfersMax);
    for (const transfer of batch.written) {
      if (transfer.type === 'pending') {
        setBounded(this.transfers, transfer.id, transfer, cachedTransfersMax);
        setBounded(this.pendings, transfer.id, null, cachedTransfersMax);
      }
      // A resolved hold is forgotten: a later post or void of it (a retry, reconciliation) is
      // decided on a read. Kept until the bound pushed it out, every hold lived for seconds and
      // reached V8's old generation, to die there: with carbon caps, four holds a request.
      if (transfer.pendingId !== null) {
        this.transfers.delete(transfer.pendingId);
        this.pendings.delete(transfer.pendingId);
      }
    }
  }
}
