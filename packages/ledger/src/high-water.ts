import type { Db } from '@tokenwise/db';
import { ledgerCheckpointHighWater } from '@tokenwise/db/schema';
import { eq, lt, sql } from 'drizzle-orm';
import type { Checkpoint } from './checkpoint';

const highWaterRowId = 1;

/**
 * Records an exported checkpoint in the database as the highest ever exported, unless a higher one
 * is recorded already (one atomic upsert, so concurrent writers cannot move it back). It is stored
 * with its checkpoint MAC: a superuser can delete the row, but not raise, lower or edit it undetected.
 */
export async function recordHighWater(db: Db, checkpoint: Checkpoint): Promise<void> {
  if (checkpoint.checkpointMac === undefined) return;
  const row = {
    batchSeq: BigInt(checkpoint.batchSeq),
    mac: checkpoint.mac,
    lastTransferSeq: BigInt(checkpoint.lastTransferSeq),
    at: checkpoint.at,
    recordMac: checkpoint.checkpointMac,
  };
  await db
    .insert(ledgerCheckpointHighWater)
    .values({ id: highWaterRowId, ...row })
    .onConflictDoUpdate({
      target: ledgerCheckpointHighWater.id,
      set: row,
      setWhere: lt(ledgerCheckpointHighWater.batchSeq, sql`excluded.batch_seq`),
    });
}

/** The highest checkpoint any writer recorded, in checkpoint form, or undefined before the first export. */
export async function readHighWater(db: Db): Promise<Checkpoint | undefined> {
  const [row] = await db
    .select()
    .from(ledgerCheckpointHighWater)
    .where(eq(ledgerCheckpointHighWater.id, highWaterRowId))
    .limit(1);
  if (row === undefined) return undefined;
  return {
    batchSeq: row.batchSeq.toString(),
    mac: row.mac,
    lastTransferSeq: row.lastTransferSeq.toString(),
    at: row.at,
    checkpointMac: row.recordMac,
  };
}
