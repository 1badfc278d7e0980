import type { Db } from '@tokenwise/db';
import { ledgerBatches, ledgerTransfers } from '@tokenwise/db/schema';
import { asc, gt } from 'drizzle-orm';
import type { Checkpoint } from './checkpoint';
import { accountDrift } from './invariants';
import { batchMac, genesisMac, transferMac } from './mac';
import type { Transfer } from './types';
import { transferColumns } from './writer';

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

/**
 * Checks every journal row against its HMAC, every batch against the chain, the chain against the
 * last checkpoint exported outside the database, and every account's totals against the journal.
 * Names each edited, deleted or inserted row.
 */
export async function verifyLedger(db: Db, params: { hmacKey: Buffer; checkpoint?: Checkpoint }): Promise<VerifyReport> {
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
    if (previous !== undefined && batch.seq !== previous.seq + 1n) report(`batches ${previous.seq + 1n}..${batch.seq - 1n} were deleted (the chain jumps from ${previous.seq} to ${batch.seq})`);
    if (batch.prevMac !== expectedPrev) report(`batch ${batch.seq} does not chain to batch ${previous?.seq ?? 'genesis'}: a batch before it was deleted, inserted or rewritten`);
    const present = new Set(rowMacs.map((row) => row.seq));
    let missing = 0;
    for (let seq = batch.firstTransferSeq; seq <= batch.lastTransferSeq; seq++) {
      if (!present.has(seq)) {
        missing++;
        report(`deleted: transfer seq ${seq} of batch ${batch.seq} is missing`);
      }
    }
    if (missing === 0) {
      const mac = batchMac(params.hmacKey, batch, rowMacs.map((row) => row.mac));
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
  for (; batchIndex < batches.length; batchIndex++) finishBatch(batches[batchIndex] as BatchRow, batches[batchIndex - 1]);

  if (params.checkpoint !== undefined) {
    const exported = batches.find((batch) => batch.seq.toString() === params.checkpoint?.batchSeq);
    if (exported === undefined) {
      report(`the exported checkpoint names batch ${params.checkpoint.batchSeq} (at ${params.checkpoint.at}), which is not in the database: batches were deleted`);
    } else if (exported.mac !== params.checkpoint.mac) {
      report(`batch ${exported.seq} differs from the exported checkpoint: the chain was rewritten`);
    }
  }
  for (const drift of await accountDrift(db)) {
    report(`account ${drift.id} (${drift.owner}) stores totals [${drift.stored}] but its journal sums to [${drift.journal}]`);
  }
  return { ok: problems.length === 0, batches: batches.length, transfers, problems };
}
