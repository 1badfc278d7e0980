import type { LedgerOp, OpResult } from './types';

/** One caller's `submit`: its ops cut into linked chains, and the promise it waits on. */
export interface Submission {
  groups: LedgerOp[][];
  opCount: number;
  resolve: (results: OpResult[]) => void;
  reject: (error: Error) => void;
}

/** Splits one submission into linked chains: a chain runs until an op without `linked`. */
export function chainsOf(ops: readonly LedgerOp[]): LedgerOp[][] {
  const groups: LedgerOp[][] = [];
  let current: LedgerOp[] = [];
  for (const op of ops) {
    current.push(op);
    if (op.linked !== true) {
      groups.push(current);
      current = [];
    }
  }
  if (current.length > 0) groups.push(current);
  return groups;
}
