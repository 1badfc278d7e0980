import { checkpointSealValid, type Checkpoint } from './checkpoint';

/** What verify knows of the chain's end, and the two records of what was exported. */
export interface CheckpointEvidence {
  /** The database's last batch, if any. */
  head: { seq: bigint; mac: string } | undefined;
  /** The MAC the database holds for a batch seq. */
  macOf: (seq: bigint) => string | undefined;
  /** The checkpoint file: absent (no path or no file yet), read, or unreadable with why. */
  file: { checkpoint: Checkpoint | undefined } | { unreadable: string } | undefined;
  /** The highest checkpoint the writers recorded in the database. */
  highWater: Checkpoint | undefined;
}

function describeHead(head: CheckpointEvidence['head']): string {
  return head === undefined
    ? 'the database holds no batch at all'
    : `the database's head is batch ${head.seq} (MAC ${head.mac})`;
}

/** A cut tail or a rewritten batch, judged against one trusted record of an exported head. */
function chainProblems(exported: Checkpoint, source: string, evidence: CheckpointEvidence): string[] {
  const seq = BigInt(exported.batchSeq);
  if (evidence.head === undefined || seq > evidence.head.seq) {
    const from = evidence.head === undefined ? 1n : evidence.head.seq + 1n;
    return [
      `truncated: ${source} names batch ${seq} (MAC ${exported.mac}, exported at ${exported.at}) but ${describeHead(evidence.head)}: batches ${from}..${seq} were deleted from the tail`,
    ];
  }
  const mac = evidence.macOf(seq);
  if (mac === undefined)
    return [`${source} names batch ${seq} (at ${exported.at}), which is not in the database: batches were deleted`];
  if (mac !== exported.mac)
    return [
      `batch ${seq} differs from ${source} (MAC ${mac} in the database, ${exported.mac} exported): the chain was rewritten`,
    ];
  return [];
}

/**
 * Judges the chain's end against the checkpoint file and the database's high-water record, which
 * live in different trust domains (the host's files, the database). Reports a file or record that
 * is unsealed, edited or forged; a tail shorter than either record (truncated); a rewritten batch;
 * and a checkpoint file older than the highest head ever exported (it went backwards: the file was
 * replaced by an older copy, which would otherwise let a later cut to that point pass).
 */
export function checkpointProblems(key: Buffer, evidence: CheckpointEvidence): string[] {
  const problems: string[] = [];
  let file: Checkpoint | undefined;
  if (evidence.file !== undefined && 'unreadable' in evidence.file) {
    problems.push(`the exported checkpoint cannot be read: ${evidence.file.unreadable}`);
  } else if (evidence.file?.checkpoint !== undefined) {
    const candidate = evidence.file.checkpoint;
    const sealed = candidate.checkpointMac !== undefined && checkpointSealValid(key, candidate);
    if (candidate.checkpointMac === undefined) {
      problems.push(
        `unsealed: the exported checkpoint (batch ${candidate.batchSeq}) carries no MAC (written before sealed checkpoints, or stripped): the next commit, or \`tokenwise ledger seal-accounts\`, exports it sealed`,
      );
    } else if (!sealed) {
      problems.push(
        `the exported checkpoint (batch ${candidate.batchSeq}, at ${candidate.at}) does not match its MAC: it was edited or forged, not written by a ledger writer`,
      );
    }
    if (sealed) file = candidate;
    // An unsealed file from before sealing still says how long the chain was; a forged one says nothing.
    if (sealed || candidate.checkpointMac === undefined)
      problems.push(...chainProblems(candidate, 'the exported checkpoint', evidence));
  }
  const highWater = evidence.highWater;
  if (highWater === undefined) return problems;
  if (!checkpointSealValid(key, highWater)) {
    problems.push(
      `the checkpoint high-water record in the database (batch ${highWater.batchSeq}) does not match its MAC: it was edited`,
    );
    return problems;
  }
  if (evidence.file !== undefined && 'checkpoint' in evidence.file) {
    if (evidence.file.checkpoint === undefined) {
      problems.push(
        `the exported checkpoint file is missing, but batch ${highWater.batchSeq} (MAC ${highWater.mac}) was exported at ${highWater.at} (recorded in the database): the file was deleted`,
      );
    } else if (file !== undefined && BigInt(file.batchSeq) < BigInt(highWater.batchSeq)) {
      problems.push(
        `went backwards: the exported checkpoint names batch ${file.batchSeq} (MAC ${file.mac}, exported at ${file.at}), but batch ${highWater.batchSeq} (MAC ${highWater.mac}) was exported at ${highWater.at} (recorded in the database): the checkpoint file was replaced by an older one`,
      );
    }
  }
  // The record stands on its own when the file cannot: it still catches a cut tail.
  const fileSaysTruncated = problems.some((problem) => problem.startsWith('truncated:'));
  if (!fileSaysTruncated)
    problems.push(...chainProblems(highWater, 'the checkpoint high-water record in the database', evidence));
  return problems;
}
