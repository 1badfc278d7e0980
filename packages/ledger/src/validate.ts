import {
  assertNonNegativeAmount,
  canonicalJson,
  isAmount,
  storableJson,
  storableRow,
  storableText,
} from '@tokenwise/core';
import { attachRowsMax, pendingTimeoutSecondsMax, transferIdLengthMax, userDataBytesMax } from './limits';
import type { LedgerOp } from './types';

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const codePattern = /^[a-z][a-z0-9_]{0,31}$/;

/** Why an op is malformed, or undefined when it is well formed. Checked before it reaches a batch. */
export function invalidReason(op: LedgerOp): string | undefined {
  if (typeof op.id !== 'string' || op.id.length === 0 || op.id.length > transferIdLengthMax)
    return `id must be 1..${transferIdLengthMax} characters.`;
  if (storableText(op.id) !== op.id) return 'id must not contain NUL or unpaired surrogates.';
  if (op.attach !== undefined && (!Array.isArray(op.attach) || op.attach.length > attachRowsMax))
    return `attach takes at most ${attachRowsMax} rows.`;
  if (op.userData !== undefined) {
    if (op.userData === null || typeof op.userData !== 'object' || Array.isArray(op.userData))
      return 'userData must be a JSON object.';
    try {
      if (Buffer.byteLength(canonicalJson(op.userData)) > userDataBytesMax)
        return `userData must encode to at most ${userDataBytesMax} bytes.`;
    } catch (error) {
      return `userData cannot be stored: ${(error as Error).message}`;
    }
  }
  switch (op.type) {
    case 'transfer':
    case 'pending':
      if (!uuidPattern.test(op.debitAccountId) || !uuidPattern.test(op.creditAccountId))
        return 'debitAccountId and creditAccountId must be account ids (UUIDs).';
      if (!isAmount(op.amount) || op.amount <= 0n) return 'amount must be a bigint greater than zero.';
      if (!codePattern.test(op.code)) return 'code must be lowercase letters, digits and underscores, e.g. "hold".';
      if (
        op.type === 'pending' &&
        (!Number.isInteger(op.timeoutSeconds) || op.timeoutSeconds < 1 || op.timeoutSeconds > pendingTimeoutSecondsMax)
      ) {
        return `timeoutSeconds must be a whole number from 1 to ${pendingTimeoutSecondsMax}.`;
      }
      return undefined;
    case 'post':
      if (op.amount !== undefined) {
        try {
          assertNonNegativeAmount(op.amount);
        } catch {
          return 'amount must be a bigint of zero or more, or omitted to post the whole pending amount.';
        }
      }
      return resolutionReason(op);
    case 'void':
    case 'expire':
      return resolutionReason(op);
    default:
      return `type must be transfer, pending, post, void or expire.`;
  }
}

function resolutionReason(op: { pendingId: string; code?: string }): string | undefined {
  if (typeof op.pendingId !== 'string' || op.pendingId.length === 0 || op.pendingId.length > transferIdLengthMax)
    return 'pendingId must name a pending transfer.';
  if (storableText(op.pendingId) !== op.pendingId) return 'pendingId must not contain NUL or unpaired surrogates.';
  if (op.code !== undefined && !codePattern.test(op.code))
    return 'code must be lowercase letters, digits and underscores.';
  return undefined;
}

/**
 * The op with its attached rows and user data made storable (NUL dropped, lone surrogates replaced,
 * client JSON depth-bounded and `$bigint`-shaped objects escaped): a value PostgreSQL or the codec
 * refuses would otherwise fail the whole group-commit batch, every neighbour's op with it.
 */
export function storableOp(op: LedgerOp): LedgerOp {
  if (op.attach === undefined && op.userData === undefined) return op;
  return {
    ...op,
    ...(op.userData === undefined ? {} : { userData: storableJson(op.userData) as Record<string, unknown> }),
    ...(op.attach === undefined
      ? {}
      : { attach: op.attach.map(({ table, row }) => ({ table, row: storableRow(row) })) }),
  };
}
