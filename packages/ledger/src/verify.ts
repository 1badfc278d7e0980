import type { Db } from '@tokenwise/db';
import { ledgerBatches, ledgerTransfers } from '@tokenwise/db/schema';
import { asc, gt } from 'drizzle-orm';
import { accountSealProblems } from './account-seals';
import { readCheckpoint } from './checkpoint';
import { readHighWater } from './high-water';
import { accountDrift } from './invariants';
import { batchMac, genesisMac, transferMac } from './mac';
import type { Transfer } from './types';
import { checkpointProblems, type CheckpointEvidence } from './verify-checkpoint';
import { transferColumns } from './transfer-columns';

export interface VerifyReport {
  ok: boolean;
  batches: number;
  transfers: number;
  /** One sentence per finding, naming the row (id and seq) or batch. */
  problems: string[];
}

const pageRows = 5_000;
const problemsMax = 1_000;

interface BatchRow {
  seq: bigint;
  prevMac: string;
  mac: string;
  firstTransferSeq: bigint;
  lastTransferSeq: bigint;
  transferCount: number;
  createdAt: Date;
}

async function readCheckpointEvidence(path: string | undefined): Promise<CheckpointEvidence['file']> {
  if (path === undefined) return undefined;
  try {
    return { checkpoint: await readCheckpoint(path) };
  } catch (error) {
    return { unreadable: (error as Error).message };
  }
}

/**
 * Checks every journal row against its HMAC, every batch against the chain, the chain's end against
 * the checkpoint exported outside the database and the high-water record inside it, every account
 * row against its MAC, and every account's totals against the journal. Names each edited, deleted,
 * inserted or truncated row, and a checkpoint that went backwards.
 */
export async function verifyLedger(
  db: Db,
  params: { hmacKey: Buffer; checkpointPath?: string },
): Promise<VerifyReport> {
  const problems: string[] = [];
  const report = (problem: string) => {
    if (problems.length < problemsMax) problems.push(problem);
  };
  const batches: BatchRow[] = await db.select().from(ledgerBatches).orderBy(asc(ledgerBatches.seq));
  let batchIndex = 0;
  let rowMacs: { seq: bigint; mac: string }[] = [];
  let transfers = 0;

  const finishBatch = (batch: BatchRow, previous: BatchRow | undefined) => {
    const expectedPrev = previous?.mac ?? genesisMac;
    if (previous !== undefined && batch.seq !== previous.seq + 1n)
      report(
        `batches ${previous.seq + 1n}..${batch.seq - 1n} were deleted (the chain jumps from ${previous.seq} to ${batch.seq})`,
      );
    if (batch.prevMac !== expectedPrev)
      report(
        `batch ${batch.seq} does not chain to batch ${previous?.seq ?? 'genesis'}: a batch before it was deleted, inserted or rewritten`,
      );
    const present = new Set(rowMacs.map((row) => row.seq));
    let missing = 0;
    for (let seq = batch.firstTransferSeq; seq <= batch.lastTransferSeq; seq++) {
      if (!present.has(seq)) {
        missing++;
        report(`deleted: transfer seq ${seq} of batch ${batch.seq} is missing`);
      }
    }
    if (missing === 0) {
      const mac = batchMac(
        params.hmacKey,
        batch,
        rowMacs.map((row) => row.mac),
      );
      if (mac !== batch.mac) report(`batch ${batch.seq} record was altered (its HMAC does not match its rows)`);
    }
    rowMacs = [];
  };

  let afterSeq = -1n;
  for (;;) {
    const page = await db
      .select({ ...transferColumns, rowMac: ledgerTransfers.rowMac })
      .from(ledgerTransfers)
      .where(gt(ledgerTransfers.seq, afterSeq))
      .orderBy(asc(ledgerTransfers.seq))
      .limit(pageRows);
    for (const row of page) {
      transfers++;
      while (batchIndex < batches.length && (batches[batchIndex] as BatchRow).lastTransferSeq < row.seq) {
        finishBatch(batches[batchIndex] as BatchRow, batches[batchIndex - 1]);
        batchIndex++;
      }
      const batch = batches[batchIndex];
      const expected = transferMac(params.hmacKey, row as Transfer);
      if (batch === undefined || row.seq < batch.firstTransferSeq) {
        report(`inserted: transfer "${row.id}" (seq ${row.seq}) belongs to no committed batch`);
        continue;
      }
      if (expected !== row.rowMac) report(`edited: transfer "${row.id}" (seq ${row.seq}) does not match its HMAC`);
      rowMacs.push({ seq: row.seq, mac: row.rowMac });
    }
    if (page.length < pageRows) break;
    afterSeq = (page[page.length - 1] as { seq: bigint }).seq;
  }
  for (; batchIndex < batches.length; batchIndex++)
    finishBatch(batches[batchIndex] as BatchRow, batches[batchIndex - 1]);

  const bySeq = new Map(batches.map((batch) => [batch.seq, batch.mac]));
  const last = batches[batches.length - 1];
  const evidence: CheckpointEvidence = {
    head: last === undefined ? undefined : { seq: last.seq, mac: last.mac },
    macOf: (seq) => bySeq.get(seq),
    file: await readCheckpointEvidence(params.checkpointPath),
    highWater: await readHighWater(db),
  };
  checkpointProblems(params.hmacKey, evidence).forEach(report);
  (await accountSealProblems(db, params.hmacKey, problemsMax)).forEach(report);
  for (const drift of await accountDrift(db)) {
    report(
      `account ${drift.id} (${drift.owner}) stores totals [${drift.stored}] but its journal sums to [${drift.journal}]`,
    );
  }
  return { ok: problems.length === 0, batches: batches.length, transfers, problems };
}
