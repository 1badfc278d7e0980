import { ledgerTransfers } from '@tokenwise/db/schema';

/** The journal columns a `Transfer` is read from (everything but the row's MAC). */
export const transferColumns = {
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
