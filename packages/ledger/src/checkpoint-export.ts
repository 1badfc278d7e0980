import { readCheckpoint, writeCheckpoint, type Checkpoint } from './checkpoint';
import { withCheckpointLock } from './checkpoint-lock';

export type ExportOutcome =
  | { written: true; replaced: Checkpoint | undefined }
  | { written: false; existing: Checkpoint | undefined; reason: string };

/**
 * Replaces the exported checkpoint with `next`, read-compare-write under the checkpoint lock, so
 * that however many processes export (gateway replicas, worker, api), the file's batch seq only
 * ever increases. It keeps the existing file when:
 * - it is as new as `next` or newer (another process exported a later head first), unless it is
 *   the same head written before checkpoints were sealed;
 * - the database's chain no longer holds the batch it names with its MAC (`continues` says so):
 *   the tail was cut or rewritten, and a later head of the new chain must not erase that evidence;
 * - it cannot be read as a checkpoint: it stays for verify to report.
 */
export async function exportCheckpoint(params: {
  path: string;
  next: Checkpoint;
  continues: (existing: Checkpoint) => Promise<boolean>;
}): Promise<ExportOutcome> {
  return withCheckpointLock(params.path, async () => {
    let existing: Checkpoint | undefined;
    try {
      existing = await readCheckpoint(params.path);
    } catch (error) {
      return {
        written: false,
        existing: undefined,
        reason: `${(error as Error).message} It is kept for \`tokenwise ledger verify\` to report; remove it only once you know why.`,
      };
    }
    if (existing !== undefined) {
      const seq = BigInt(existing.batchSeq);
      const next = BigInt(params.next.batchSeq);
      // The same head written before checkpoints were sealed is sealed in place: nothing is lost.
      const sealsInPlace = seq === next && existing.mac === params.next.mac && existing.checkpointMac === undefined;
      if (seq >= next && !sealsInPlace)
        return { written: false, existing, reason: `batch ${existing.batchSeq} is already exported` };
      if (!(await params.continues(existing))) {
        return {
          written: false,
          existing,
          reason: `the exported checkpoint names batch ${existing.batchSeq} (MAC ${existing.mac}), which the database's chain no longer holds with that MAC: the tail was cut or rewritten, so the checkpoint is kept as evidence (run \`tokenwise ledger verify\`)`,
        };
      }
    }
    await writeCheckpoint(params.path, params.next);
    return { written: true, replaced: existing };
  });
}
