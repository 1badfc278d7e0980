import { type Amount, amountMax, expireTransferId, invariant } from '@tokenwise/core';
import type { TransferType } from '@tokenwise/db/schema';
import { bodyOf, bodyOfTransfer } from './op-body';
import type { Account, FailureCode, LedgerOp, Transfer } from './types';

/** An account as locked for one batch, with its totals. */
export interface AccountState extends Account {
  debitsPending: Amount;
  debitsPosted: Amount;
  creditsPending: Amount;
  creditsPosted: Amount;
  allowPeerTransfers: boolean;
}

/** A transfer decided in this batch, before the writer gives it a seq. */
export interface Draft extends Omit<Transfer, 'seq' | 'batchSeq' | 'createdAt'> {
  /** Index of the op that produced it, or -1 for an automatic expiry. */
  opIndex: number;
  /** What the debit account has available right after this transfer (undefined for derived accounts). */
  debitAvailableAfter?: Amount;
  /** The debit account's posted debits right after this transfer (undefined for derived accounts). */
  debitPostedAfter?: Amount;
}

function availableOf(account: AccountState): Amount | undefined {
  return account.balanceDerived ? undefined : account.creditsPosted - account.debitsPosted - account.debitsPending;
}

function postedOf(account: AccountState): Amount | undefined {
  return account.balanceDerived ? undefined : account.debitsPosted;
}

export type Decision =
  | { ok: true; draft: Draft; duplicate?: boolean }
  | { ok: true; existing: Transfer }
  | { ok: false; code: FailureCode; message: string };

export interface BatchState {
  accounts: Map<string, AccountState>;
  /** Committed transfers whose id is an op id or a pending id of this batch. */
  existing: Map<string, Transfer>;
  /** Pending id -> how it was already resolved (post, void or expire). */
  resolutions: Map<string, TransferType>;
  now: Date;
}

type Fail = { ok: false; code: FailureCode; message: string };
const fail = (code: FailureCode, message: string): Fail => ({ ok: false, code, message });

/**
 * Decides one batch in memory, in arrival order, exactly as if each op ran alone in that order.
 * Linked chains are all-or-nothing: a chain works on a copy of the touched accounts and is
 * applied only when every op in it succeeds. Mutates `state` to the batch's end state.
 */
export function evaluateBatch(
  groups: readonly (readonly LedgerOp[])[],
  state: BatchState,
): { decisions: Decision[][]; drafts: Draft[] } {
  const drafts: Draft[] = [];
  const inBatch = new InBatch();
  const decisions: Decision[][] = [];
  let opIndex = 0;
  for (const group of groups) {
    const scratch = new Scratch(state, inBatch);
    const groupDecisions: Decision[] = [];
    let failedAt = -1;
    const lastLinked = group.length > 0 && group[group.length - 1]?.linked === true;
    for (const [index, op] of group.entries()) {
      const decision = lastLinked
        ? fail('linked_chain_open', 'The last op of a linked chain must not set linked: true.')
        : decide(op, scratch, opIndex + index);
      groupDecisions.push(decision);
      if (!decision.ok) {
        failedAt = index;
        break;
      }
    }
    if (failedAt >= 0 && group.length > 1) {
      for (let index = 0; index < group.length; index++) {
        if (index !== failedAt)
          groupDecisions[index] = fail(
            'linked_event_failed',
            `Not applied: op ${failedAt} of its linked chain failed.`,
          );
      }
    } else if (failedAt < 0) {
      scratch.commit(drafts);
    }
    // Expiries found on the way are independent of the chain: the hold has lapsed either way.
    scratch.commitExpiries(drafts);
    decisions.push(groupDecisions);
    opIndex += group.length;
  }
  return { decisions, drafts };
}

/** Drafts already accepted in this batch, by id and by the pending transfer they resolve. */
class InBatch {
  private readonly byId = new Map<string, Draft>();
  private readonly byPendingId = new Map<string, Draft>();
  get(id: string): Draft | undefined {
    return this.byId.get(id);
  }
  has(id: string): boolean {
    return this.byId.has(id);
  }
  resolution(pendingId: string): Draft | undefined {
    return this.byPendingId.get(pendingId);
  }
  set(id: string, draft: Draft): void {
    this.byId.set(id, draft);
    if (draft.pendingId !== null) this.byPendingId.set(draft.pendingId, draft);
  }
}

/** A chain's view of the batch: account copies and drafts that become real only on commit. */
class Scratch {
  private readonly accounts = new Map<string, AccountState>();
  readonly drafts: Draft[] = [];
  readonly expiries: Draft[] = [];

  constructor(
    readonly state: BatchState,
    readonly inBatch: InBatch,
  ) {}

  account(id: string): AccountState | undefined {
    const copy = this.accounts.get(id);
    if (copy !== undefined) return copy;
    const base = this.state.accounts.get(id);
    if (base === undefined) return undefined;
    const fresh = { ...base };
    this.accounts.set(id, fresh);
    return fresh;
  }

  draftById(id: string): Draft | undefined {
    return this.drafts.find((draft) => draft.id === id) ?? this.inBatch.get(id);
  }

  resolutionOf(pendingId: string): TransferType | undefined {
    // A chain holds a handful of drafts: scanning them is cheaper than indexing.
    const draft =
      this.drafts.find((candidate) => candidate.pendingId === pendingId) ??
      this.expiries.find((candidate) => candidate.pendingId === pendingId);
    return draft?.type ?? this.inBatch.resolution(pendingId)?.type ?? this.state.resolutions.get(pendingId);
  }

  commit(out: Draft[]): void {
    for (const [id, account] of this.accounts) this.state.accounts.set(id, account);
    for (const draft of this.drafts) {
      out.push(draft);
      this.inBatch.set(draft.id, draft);
    }
  }

  commitExpiries(out: Draft[]): void {
    for (const expiry of this.expiries) {
      if (this.inBatch.has(expiry.id)) continue;
      const base = this.state.accounts;
      applyRelease(base.get(expiry.debitAccountId), base.get(expiry.creditAccountId), expiry.amount);
      out.push(expiry);
      this.inBatch.set(expiry.id, expiry);
    }
  }
}

function applyRelease(debit: AccountState | undefined, credit: AccountState | undefined, amount: Amount): void {
  if (debit !== undefined && !debit.balanceDerived) debit.debitsPending -= amount;
  if (credit !== undefined && !credit.balanceDerived) credit.creditsPending -= amount;
}

function decide(op: LedgerOp, scratch: Scratch, opIndex: number): Decision {
  const prior = scratch.state.existing.get(op.id) ?? toTransferLike(scratch.draftById(op.id), scratch.state.now);
  if (prior !== undefined) return replay(op, prior, scratch);
  switch (op.type) {
    case 'transfer':
    case 'pending':
      return decideMovement(op, scratch, opIndex);
    case 'post':
    case 'void':
    case 'expire':
      return decideResolution(op, scratch, opIndex);
  }
}

/** A draft seen as a transfer: created at the batch's clock, not yet numbered. */
function toTransferLike(draft: Draft | undefined, now: Date): Transfer | undefined {
  if (draft === undefined) return undefined;
  return { ...draft, seq: -1n, batchSeq: -1n, createdAt: now };
}

/** The same id again: the same body returns the first result; a different body is refused. */
function replay(op: LedgerOp, prior: Transfer, scratch: Scratch): Decision {
  let resolvedAmount: Amount | undefined;
  if (op.type === 'post') {
    const pending =
      scratch.state.existing.get(op.pendingId) ?? toTransferLike(scratch.draftById(op.pendingId), scratch.state.now);
    resolvedAmount = op.amount ?? pending?.amount;
  }
  if (bodyOf(op, resolvedAmount) !== bodyOfTransfer(prior)) {
    return fail(
      'idempotency_conflict',
      `Transfer id "${op.id}" was already used for a different ${prior.type} (${prior.amount} ${prior.currency}); use a new id for a new request.`,
    );
  }
  if (prior.seq === -1n) return { ok: true, draft: scratch.draftById(op.id) as Draft, duplicate: true };
  return { ok: true, existing: prior };
}

function decideMovement(
  op: Extract<LedgerOp, { type: 'transfer' | 'pending' }>,
  scratch: Scratch,
  opIndex: number,
): Decision {
  if (op.debitAccountId === op.creditAccountId)
    return fail('accounts_must_differ', 'Debit and credit accounts must differ.');
  const debit = scratch.account(op.debitAccountId);
  const credit = scratch.account(op.creditAccountId);
  if (debit === undefined) return fail('account_not_found', `Debit account ${op.debitAccountId} does not exist.`);
  if (credit === undefined) return fail('account_not_found', `Credit account ${op.creditAccountId} does not exist.`);
  if (debit.currency !== credit.currency) {
    return fail(
      'currency_mismatch',
      `Accounts hold different currencies (${debit.currency} -> ${credit.currency}); a transfer moves one currency.`,
    );
  }
  if (
    debit.ownerType === 'user' &&
    credit.ownerType === 'user' &&
    debit.purpose === 'wallet' &&
    credit.purpose === 'wallet' &&
    !debit.allowPeerTransfers
  ) {
    return fail(
      'peer_transfers_not_allowed',
      'Tokens are not transferable between employees in this org (an admin can allow it in the org policy).',
    );
  }
  if (!debit.balanceDerived) {
    const debitsAfter = debit.debitsPending + debit.debitsPosted + op.amount;
    if (debit.debitsMustNotExceedCredits && debitsAfter > debit.creditsPosted) {
      const available = debit.creditsPosted - debit.debitsPending - debit.debitsPosted;
      return fail(
        'insufficient_funds',
        `Insufficient funds: ${op.amount} needed, ${available} available in ${debit.currency}.`,
      );
    }
    if ((op.type === 'pending' ? debit.debitsPending : debit.debitsPosted) + op.amount > amountMax)
      return fail('overflow', 'Debit totals would overflow.');
  }
  if (
    !credit.balanceDerived &&
    (op.type === 'pending' ? credit.creditsPending : credit.creditsPosted) + op.amount > amountMax
  ) {
    return fail('overflow', 'Credit totals would overflow.');
  }
  if (op.type === 'pending') {
    if (!debit.balanceDerived) debit.debitsPending += op.amount;
    if (!credit.balanceDerived) credit.creditsPending += op.amount;
  } else {
    if (!debit.balanceDerived) debit.debitsPosted += op.amount;
    if (!credit.balanceDerived) credit.creditsPosted += op.amount;
  }
  const draft: Draft = {
    id: op.id,
    type: op.type,
    debitAccountId: op.debitAccountId,
    creditAccountId: op.creditAccountId,
    currency: debit.currency,
    amount: op.amount,
    pendingId: null,
    expiresAt: op.type === 'pending' ? new Date(scratch.state.now.getTime() + op.timeoutSeconds * 1000) : null,
    code: op.code,
    userData: op.userData ?? null,
    opIndex,
    debitAvailableAfter: availableOf(debit),
    debitPostedAfter: postedOf(debit),
  };
  scratch.drafts.push(draft);
  return { ok: true, draft };
}

function decideResolution(op: PostOrVoid, scratch: Scratch, opIndex: number): Decision {
  const pending =
    scratch.state.existing.get(op.pendingId) ?? toTransferLike(scratch.draftById(op.pendingId), scratch.state.now);
  if (pending === undefined) return fail('pending_not_found', `No pending transfer "${op.pendingId}".`);
  if (pending.type !== 'pending')
    return fail('not_pending', `Transfer "${op.pendingId}" is a ${pending.type}, not a pending transfer.`);
  const resolution = scratch.resolutionOf(op.pendingId);
  if (resolution === 'post')
    return fail('pending_already_posted', `Pending transfer "${op.pendingId}" was already posted.`);
  if (resolution === 'void')
    return fail('pending_already_voided', `Pending transfer "${op.pendingId}" was already voided.`);
  if (resolution === 'expire')
    return fail('pending_expired', `Pending transfer "${op.pendingId}" expired and its funds were released.`);
  invariant(pending.expiresAt !== null, 'a pending transfer has an expiry');
  if (op.type === 'expire') {
    if (pending.expiresAt.getTime() > scratch.state.now.getTime()) {
      return fail(
        'pending_not_expired',
        `Pending transfer "${op.pendingId}" expires at ${pending.expiresAt.toISOString()}, not yet.`,
      );
    }
    const expiry = releaseDraft('expire', op.id, pending, 'expire', op.userData ?? null, opIndex);
    applyRelease(scratch.account(pending.debitAccountId), scratch.account(pending.creditAccountId), pending.amount);
    scratch.drafts.push(expiry);
    return { ok: true, draft: expiry };
  }
  if (pending.expiresAt.getTime() <= scratch.state.now.getTime()) {
    scratch.expiries.push(releaseDraft('expire', expireTransferId(pending.id), pending, 'expire', null, -1));
    return fail(
      'pending_expired',
      `Pending transfer "${op.pendingId}" expired at ${pending.expiresAt.toISOString()}; its funds are released.`,
    );
  }
  const debit = scratch.account(pending.debitAccountId);
  const credit = scratch.account(pending.creditAccountId);
  invariant(debit !== undefined && credit !== undefined, 'accounts of a pending transfer exist');
  if (op.type === 'void') {
    applyRelease(debit, credit, pending.amount);
    const draft = {
      ...releaseDraft('void', op.id, pending, op.code ?? 'void', op.userData ?? null, opIndex),
      debitAvailableAfter: availableOf(debit),
      debitPostedAfter: postedOf(debit),
    };
    scratch.drafts.push(draft);
    return { ok: true, draft };
  }
  const amount = op.amount ?? pending.amount;
  if (amount > pending.amount)
    return fail('exceeds_pending_amount', `Cannot post ${amount}: the pending transfer holds only ${pending.amount}.`);
  applyRelease(debit, credit, pending.amount);
  if (!debit.balanceDerived) debit.debitsPosted += amount;
  if (!credit.balanceDerived) credit.creditsPosted += amount;
  const draft: Draft = {
    ...releaseDraft('post', op.id, pending, op.code ?? 'post', op.userData ?? null, opIndex),
    amount,
    debitAvailableAfter: availableOf(debit),
    debitPostedAfter: postedOf(debit),
  };
  scratch.drafts.push(draft);
  return { ok: true, draft };
}

type PostOrVoid = Extract<LedgerOp, { type: 'post' | 'void' | 'expire' }>;

function releaseDraft(
  type: TransferType,
  id: string,
  pending: Transfer,
  code: string,
  userData: unknown,
  opIndex: number,
): Draft {
  return {
    id,
    type,
    debitAccountId: pending.debitAccountId,
    creditAccountId: pending.creditAccountId,
    currency: pending.currency,
    amount: pending.amount,
    pendingId: pending.id,
    expiresAt: null,
    code,
    userData,
    opIndex,
  };
}
