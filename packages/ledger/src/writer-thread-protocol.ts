import { getTableName, is } from 'drizzle-orm';
import { PgTable } from 'drizzle-orm/pg-core';
import * as schema from '@tokenwise/db/schema';
import { LedgerOverloadedError, LedgerRefusedError, LedgerUnavailableError } from './errors';
import type { LedgerOp, OpResult } from './types';
import type { ChainHead } from './writer';

/**
 * What the gateway's thread and the ledger's writer thread say to each other. Everything crosses by
 * structured clone (bigints and dates included), so an op's attached rows name their table instead
 * of carrying drizzle's table object.
 */
export type WireOp = Omit<LedgerOp, 'attach'> & { attach?: { table: string; row: Record<string, unknown> }[] };

export interface WriterThreadData {
  databaseUrl: string;
  hmacKey: Uint8Array;
  batchIntervalMs: number | undefined;
}

export type ToWriterThread = { type: 'submit'; submissions: { id: number; ops: WireOp[] }[] } | { type: 'close' };

export interface SettledSubmission {
  id: number;
  results?: OpResult[];
  error?: { name: string; message: string };
}

export type FromWriterThread =
  | { type: 'settled'; settled: SettledSubmission[]; head: ChainHead | undefined; stats: WriterStats }
  | { type: 'closed' };

export interface WriterStats {
  batches: number;
  ops: number;
  retries: number;
  splits: number;
  cached: number;
  loadMs: number;
  writeMs: number;
  statementMs: number;
  statementMaxMs: number;
  /** The writer thread's V8 heap (its own isolate), used and committed. */
  thread?: { heapUsedBytes: number; heapTotalBytes: number };
}

export function toWireOp(op: LedgerOp): WireOp {
  if (op.attach === undefined) return op as WireOp;
  return { ...op, attach: op.attach.map(({ table, row }) => ({ table: getTableName(table), row })) };
}

let tablesByName: Map<string, PgTable> | undefined;

/** The op with its attached rows' tables looked up by name among the schema's tables; an unknown name is refused. */
export function fromWireOp(op: WireOp): LedgerOp {
  if (op.attach === undefined) return op as LedgerOp;
  const tables = (tablesByName ??= new Map(
    (Object.values(schema) as unknown[])
      .filter((value): value is PgTable => is(value, PgTable))
      .map((table) => [getTableName(table), table]),
  ));
  return {
    ...(op as LedgerOp),
    attach: op.attach.map(({ table, row }) => {
      const found = tables.get(table);
      if (found === undefined) throw new LedgerRefusedError(`No table "${table}" to attach a row to.`);
      return { table: found, row };
    }),
  };
}

/** The writer's own errors cross as name and message and are rebuilt as the same classes. */
export function errorFromWire(error: { name: string; message: string }): Error {
  if (error.name === 'LedgerOverloadedError') return new LedgerOverloadedError(error.message);
  if (error.name === 'LedgerRefusedError') return new LedgerRefusedError(error.message);
  return new LedgerUnavailableError(error.message);
}
