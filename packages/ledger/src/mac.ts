import { canonicalJson, invariant } from '@tokenwise/core';
import { createHmac } from 'node:crypto';
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
  const canonical = canonicalJson([
    transfer.seq,
    transfer.id,
    transfer.type,
    transfer.debitAccountId,
    transfer.creditAccountId,
    transfer.currency,
    transfer.amount,
    transfer.pendingId,
    transfer.expiresAt?.toISOString() ?? null,
    transfer.code,
    transfer.userData ?? null,
    transfer.batchSeq,
    transfer.createdAt.toISOString(),
  ]);
  return createHmac('sha256', key).update(canonical).digest('hex');
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
