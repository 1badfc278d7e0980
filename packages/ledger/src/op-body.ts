import { type Amount, canonicalJson } from '@tokenwise/core';
import type { LedgerOp, Transfer } from './types';

/** The fields that make two requests with one id "the same request". */
export function bodyOf(op: LedgerOp, resolvedAmount: Amount | undefined): string {
  switch (op.type) {
    case 'transfer':
      return canonicalJson({
        type: op.type,
        debit: op.debitAccountId,
        credit: op.creditAccountId,
        amount: op.amount,
        code: op.code,
        userData: op.userData ?? null,
      });
    case 'pending':
      return canonicalJson({
        type: op.type,
        debit: op.debitAccountId,
        credit: op.creditAccountId,
        amount: op.amount,
        code: op.code,
        timeoutSeconds: op.timeoutSeconds,
        userData: op.userData ?? null,
      });
    case 'post':
      return canonicalJson({
        type: op.type,
        pendingId: op.pendingId,
        amount: resolvedAmount ?? null,
        code: op.code ?? 'post',
        userData: op.userData ?? null,
      });
    case 'void':
      return canonicalJson({
        type: op.type,
        pendingId: op.pendingId,
        code: op.code ?? 'void',
        userData: op.userData ?? null,
      });
    case 'expire':
      return canonicalJson({ type: op.type, pendingId: op.pendingId, code: 'expire', userData: op.userData ?? null });
  }
}

/** The same fields of a transfer already in the journal, so a retry compares equal to its first try. */
export function bodyOfTransfer(transfer: Transfer): string {
  switch (transfer.type) {
    case 'transfer':
      return canonicalJson({
        type: 'transfer',
        debit: transfer.debitAccountId,
        credit: transfer.creditAccountId,
        amount: transfer.amount,
        code: transfer.code,
        userData: transfer.userData ?? null,
      });
    case 'pending': {
      const timeoutSeconds =
        transfer.expiresAt === null
          ? null
          : Math.round((transfer.expiresAt.getTime() - transfer.createdAt.getTime()) / 1000);
      return canonicalJson({
        type: 'pending',
        debit: transfer.debitAccountId,
        credit: transfer.creditAccountId,
        amount: transfer.amount,
        code: transfer.code,
        timeoutSeconds,
        userData: transfer.userData ?? null,
      });
    }
    case 'post':
      return canonicalJson({
        type: 'post',
        pendingId: transfer.pendingId,
        amount: transfer.amount,
        code: transfer.code,
        userData: transfer.userData ?? null,
      });
    case 'void':
    case 'expire':
      return canonicalJson({
        type: transfer.type,
        pendingId: transfer.pendingId,
        code: transfer.code,
        userData: transfer.userData ?? null,
      });
    default:
      return invariantNever(transfer.type);
  }
}

function invariantNever(value: never): never {
  throw new Error(`unknown transfer type ${String(value)}`);
}
