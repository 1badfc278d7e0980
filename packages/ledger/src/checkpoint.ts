import { canonicalJson } from '@tokenwise/core';
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { readFile, rename, rm, writeFile } from 'node:fs/promises';

/**
 * The chain head as exported outside the database: a superuser who rewrites or cuts the chain
 * cannot match it. `checkpointMac` seals the other fields under the ledger key, so the file can be
 * neither edited nor written from scratch by someone who can read the database (and so knows
 * every batch MAC) but not the key. It is absent only in files written before sealed checkpoints,
 * which verify reports until the next export replaces them.
 */
export interface Checkpoint {
  batchSeq: string;
  mac: string;
  lastTransferSeq: string;
  at: string;
  checkpointMac?: string;
}

/** Domain separation: a checkpoint MAC can never be mistaken for a row, batch or account MAC. */
const checkpointMacLabel = 'tokenwise.ledger.checkpoint.v1';
/** The checkpoint file holds one small JSON object; anything larger is not ours. */
const checkpointBytesMax = 4_096;
const decimalPattern = /^(0|[1-9][0-9]{0,18})$/;
const macPattern = /^[0-9a-f]{64}$/;

/** HMAC of the checkpoint's fields (everything but the MAC itself). */
export function checkpointMacOf(key: Buffer, checkpoint: Checkpoint): string {
  const canonical = canonicalJson([
    checkpointMacLabel,
    checkpoint.batchSeq,
    checkpoint.mac,
    checkpoint.lastTransferSeq,
    checkpoint.at,
  ]);
  return createHmac('sha256', key).update(canonical).digest('hex');
}

/** A checkpoint of the head, sealed under the ledger key. */
export function sealCheckpoint(
  key: Buffer,
  head: { batchSeq: bigint; mac: string; lastTransferSeq: bigint },
  at: Date,
): Checkpoint {
  const checkpoint: Checkpoint = {
    batchSeq: head.batchSeq.toString(),
    mac: head.mac,
    lastTransferSeq: head.lastTransferSeq.toString(),
    at: at.toISOString(),
  };
  return { ...checkpoint, checkpointMac: checkpointMacOf(key, checkpoint) };
}

/** Whether the checkpoint carries a MAC and it matches its fields under the key. */
export function checkpointSealValid(key: Buffer, checkpoint: Checkpoint): boolean {
  if (checkpoint.checkpointMac === undefined || !macPattern.test(checkpoint.checkpointMac)) return false;
  return timingSafeEqual(
    Buffer.from(checkpoint.checkpointMac, 'hex'),
    Buffer.from(checkpointMacOf(key, checkpoint), 'hex'),
  );
}

/** Writes the checkpoint atomically (a temp file of its own, then rename), readable only by its owner. */
export async function writeCheckpoint(path: string, checkpoint: Checkpoint): Promise<void> {
  // Unique per call: two exports in one process, or two processes, never share a temp file.
  const temp = `${path}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    await writeFile(temp, `${JSON.stringify(checkpoint)}\n`, { mode: 0o600, flag: 'wx' });
    await rename(temp, path);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
}

/** The last exported checkpoint, or undefined when none was written yet; throws when the file is not a checkpoint. */
export async function readCheckpoint(path: string): Promise<Checkpoint | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  if (text.length > checkpointBytesMax)
    throw new Error(
      `Checkpoint file ${path} is larger than ${checkpointBytesMax} bytes: it is not a ledger checkpoint.`,
    );
  let parsed: Partial<Record<keyof Checkpoint, unknown>>;
  try {
    parsed = JSON.parse(text) as Partial<Record<keyof Checkpoint, unknown>>;
  } catch {
    throw new Error(`Checkpoint file ${path} is not JSON.`);
  }
  const { batchSeq, mac, lastTransferSeq, at, checkpointMac } = parsed;
  if (
    typeof batchSeq !== 'string' ||
    !decimalPattern.test(batchSeq) ||
    typeof mac !== 'string' ||
    typeof lastTransferSeq !== 'string' ||
    !decimalPattern.test(lastTransferSeq) ||
    typeof at !== 'string'
  ) {
    throw new Error(
      `Checkpoint file ${path} is malformed: it needs batchSeq and lastTransferSeq as decimal strings, mac and at as strings.`,
    );
  }
  if (checkpointMac !== undefined && typeof checkpointMac !== 'string')
    throw new Error(`Checkpoint file ${path} is malformed: checkpointMac must be a string.`);
  return checkpointMac === undefined
    ? { batchSeq, mac, lastTransferSeq, at }
    : { batchSeq, mac, lastTransferSeq, at, checkpointMac };
}
