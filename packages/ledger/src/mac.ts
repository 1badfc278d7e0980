import { assertAmount, canonicalJson, invariant, jsonString } from '@tokenwise/core';
import { createHmac } from 'node:crypto';
import { isoTime } from './iso-time';
import type { Transfer } from './types';

/** The chain's first link: batch 1 chains to this. */
export const genesisMac = '0'.repeat(64);
export const hmacKeyBytesMin = 32;

/** Refuses keys too short to resist guessing. */
export function assertHmacKey(key: Buffer): void {
  invariant(key.length >= hmacKeyBytesMin, `The ledger HMAC key must be at least ${hmacKeyBytesMin} bytes.`);
}

/** HMAC of one journal row over every column, in a fixed canonical form. */
export function transferMac(key: Buffer, transfer: Transfer): string {
  return createHmac('sha256', key).update(transferCanonical(transfer)).digest('hex');
}

/**
 * The canonical form a row MAC covers: exactly `canonicalJson` of the row's columns in a fixed
 * order, written out directly. The writer MACs every row it commits on the request path, where the
 * generic encoder (a copy of the tuple, a tagged object per bigint, a sorted copy of each) cost more
 * than the HMAC itself. Only `userData`, free-form JSON, goes through the generic encoder.
 */
export function transferCanonical(transfer: Transfer): string {
  return `[${bigintJson(transfer.seq)},${jsonString(transfer.id)},${jsonString(transfer.type)},${jsonString(
    transfer.debitAccountId,
  )},${jsonString(transfer.creditAccountId)},${jsonString(transfer.currency)},${bigintJson(transfer.amount)},${
    transfer.pendingId === null ? 'null' : jsonString(transfer.pendingId)
  },${transfer.expiresAt === null ? 'null' : `"${isoTime(transfer.expiresAt)}"`},${jsonString(transfer.code)},${
    transfer.userData === null || transfer.userData === undefined ? 'null' : canonicalJson(transfer.userData)
  },${batchTail(transfer.batchSeq, transfer.createdAt)}`;
}

/** Every row of a batch ends alike (its batch seq and time): written once per batch, not per row. */
let lastTail: { batchSeq: bigint; time: number; text: string } | undefined;

function batchTail(batchSeq: bigint, createdAt: Date): string {
  const time = createdAt.getTime();
  if (lastTail === undefined || lastTail.batchSeq !== batchSeq || lastTail.time !== time)
    lastTail = { batchSeq, time, text: `${bigintJson(batchSeq)},"${createdAt.toISOString()}"]` };
  return lastTail.text;
}

/** A bigint as the codec tags it (`{"$bigint":"<decimal>"}`), range-checked as the codec does. */
function bigintJson(value: bigint): string {
  assertAmount(value, 'bigint value');
  return `{"$bigint":"${value}"}`;
}

export interface BatchLink {
  seq: bigint;
  prevMac: string;
  firstTransferSeq: bigint;
  lastTransferSeq: bigint;
  transferCount: number;
  createdAt: Date;
}

/** HMAC of a batch: chains to the previous batch and covers every row MAC in seq order. */
export function batchMac(key: Buffer, link: BatchLink, rowMacs: readonly string[]): string {
  const hmac = createHmac('sha256', key);
  hmac.update(
    canonicalJson([
      link.seq,
      link.prevMac,
      link.firstTransferSeq,
      link.lastTransferSeq,
      link.transferCount,
      link.createdAt.toISOString(),
    ]),
  );
  for (const mac of rowMacs) hmac.update(mac);
  return hmac.digest('hex');
}
