import type { Amount } from '@tokenwise/core';
import type { PgTable } from 'drizzle-orm/pg-core';
import type { AuditEntry } from '@tokenwise/db';
import type { TransferType } from '@tokenwise/db/schema';

/** What a caller may ask the ledger to do. Ids are idempotency keys, derived from the caller's own keys. */
interface OpBase {
  /** Idempotency key, 1..200 characters: `hold-<requestId>`, `allowance-<account>-<period>`. */
  id: string;
  /** Links this op to the next one in the same submit call: they succeed or fail together. */
  linked?: boolean;
  /** Small JSON for reconciliation and reports (request id, reason); at most 2 KB encoded. */
  userData?: Record<string, unknown>;
  /** Written in the same transaction when the op commits (not on an idempotent replay). */
  audit?: Omit<AuditEntry, 'entityId' | 'entityType' | 'after' | 'before'> & { entityType?: string; entityId?: string };
  /**
   * Rows inserted in the same transaction when this op is newly applied (not on a replay or a
   * failure): the gateway's admission row with its hold, its usage row with its charge. Inserted
   * with ON CONFLICT DO NOTHING, so a retried batch writes each once.
   */
  attach?: { table: PgTable; row: Record<string, unknown> }[];
}

export type TransferOp = OpBase & {
  type: 'transfer';
  debitAccountId: string;
  creditAccountId: string;
  amount: Amount;
  code: string;
};
export type PendingOp = OpBase & {
  type: 'pending';
  debitAccountId: string;
  creditAccountId: string;
  amount: Amount;
  code: string;
  /** The hold lapses after this many seconds unless posted or voided first. */
  timeoutSeconds: number;
};
/** Posts a pending transfer for `amount` (default: all of it); the remainder returns to the debit account. */
export type PostOp = OpBase & { type: 'post'; pendingId: string; amount?: Amount; code?: string };
export type VoidOp = OpBase & { type: 'void'; pendingId: string; code?: string };
/** Releases a lapsed hold (what the expiry sweeper submits); refused before the hold's expiry. */
export type ExpireOp = OpBase & { type: 'expire'; pendingId: string };
export type LedgerOp = TransferOp | PendingOp | PostOp | VoidOp | ExpireOp;

/** A committed, immutable journal row. */
export interface Transfer {
  seq: bigint;
  id: string;
  type: TransferType;
  debitAccountId: string;
  creditAccountId: string;
  currency: string;
  amount: Amount;
  pendingId: string | null;
  expiresAt: Date | null;
  code: string;
  userData: unknown;
  batchSeq: bigint;
  createdAt: Date;
}

export const failureCodes = [
  'invalid',
  'account_not_found',
  'accounts_must_differ',
  'currency_mismatch',
  'insufficient_funds',
  'overflow',
  'peer_transfers_not_allowed',
  'pending_not_found',
  'not_pending',
  'pending_already_posted',
  'pending_already_voided',
  'pending_expired',
  'pending_not_expired',
  'exceeds_pending_amount',
  'idempotency_conflict',
  'linked_event_failed',
  'linked_chain_open',
] as const;
export type FailureCode = (typeof failureCodes)[number];

export type OpResult =
  | {
      ok: true;
      transfer: Transfer;
      duplicate: boolean;
      /** The debit wallet's available balance right after this op (not on replays or derived accounts). */
      debitAvailable?: Amount;
      /** The debit account's posted debits right after this op (not on replays or derived accounts). */
      debitPosted?: Amount;
    }
  | { ok: false; code: FailureCode; message: string };

export type OwnerType = 'user' | 'team' | 'org' | 'system';

export interface Account {
  id: string;
  orgId: string | null;
  ownerType: OwnerType;
  ownerId: string;
  currency: string;
  purpose: string;
  debitsMustNotExceedCredits: boolean;
  balanceDerived: boolean;
}

export interface Balance {
  accountId: string;
  currency: string;
  debitsPending: Amount;
  debitsPosted: Amount;
  creditsPending: Amount;
  creditsPosted: Amount;
  /** credits posted - debits posted. */
  posted: Amount;
  /** What a new hold or transfer may still take: posted minus pending debits. */
  available: Amount;
}
