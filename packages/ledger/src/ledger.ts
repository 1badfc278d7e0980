import {
  assertWithinGrantBounds,
  expireTransferId,
  ForbiddenError,
  grantTransferId,
  IdempotencyConflictError,
  InsufficientFundsError,
  monthlyPeriod,
  NotFoundError,
  ValidationError,
  type Amount,
} from '@tokenwise/core';
import type { Db } from '@tokenwise/db';
import { sealAccounts, type SealAccountsResult } from './account-seals';
import {
  consumptionAccount,
  createAccountLookup,
  ensureAccount,
  findAccountById,
  orgIssuanceKey,
  type AccountKey,
} from './accounts';
import type { ExportOutcome } from './checkpoint-export';
import { createCheckpointExporter } from './checkpoint-exporter';
import { IssuanceReservations } from './issuance-reservations';
import { createIssuanceMeter } from './org-issuance';
import { batchOpsMax } from './limits';
import { assertHmacKey } from './mac';
import { findExpiredPending, getBalance, getHistory, getTransfer, readChainHead } from './queries';
import type { Account, Balance, LedgerOp, OpResult, Transfer } from './types';
import { invalidReason, storableOp } from './validate';
import { verifyLedger, type VerifyReport } from './verify';
import { chainsOf } from './submission';
import { BatchWriter, type ChainHead } from './writer';

export interface LedgerOptions {
  db: Db;
  /** HMAC key of the journal chain, >= 32 bytes, never stored in the database. */
  hmacKey: Buffer;
  /**
   * Where the chain head is exported; none when omitted (tests). Several processes may share one
   * path: each export is a locked read-compare-rename that only ever moves it forward.
   */
  checkpointPath?: string;
  /** Exports happen at most this often, and on close. */
  checkpointIntervalMs?: number;
  clock?: () => Date;
  /**
   * Least time between the starts of two batches (default 0: the next batch starts as soon as the
   * previous one commits). A few milliseconds gather more operations per statement, for less
   * database and writer work per operation, at that much more latency per submit.
   */
  batchIntervalMs?: number;
}

/** The Tokenwise ledger: the only way tokens move. */
export interface Ledger {
  /** Low level: one result per op, in order; failures are results, not exceptions. */
  submit(ops: LedgerOp[]): Promise<OpResult[]>;
  /** Submits one op and returns its transfer, or throws the matching domain error. */
  execute(op: LedgerOp): Promise<{ transfer: Transfer; duplicate: boolean }>;
  /**
   * Issues tokens from the org's issuance account to an account of that org, within the org's
   * grant bounds (LimitExceededError names the bound and what is left this month). `id` is the
   * admin's, unique within the org: the transfer's id is `grantTransferId(orgId, id)`.
   */
  grant(params: {
    id: string;
    to: string;
    currency: string;
    amount: Amount;
    actor: string;
    reason: string;
    orgId: string;
  }): Promise<{ transfer: Transfer; duplicate: boolean }>;
  /** The monthly allowance: its id is derived from (account, month in the org's zone), so a rerun never grants twice. Within the org's grant bounds. */
  grantAllowance(params: {
    to: string;
    currency: string;
    amount: Amount;
    at: Date;
    timeZone: string;
    actor: string;
    orgId: string;
  }): Promise<{ transfer: Transfer; duplicate: boolean; period: string }>;
  /** Holds up to `amount` of a wallet for a request, credited to consumption when posted. */
  hold(params: {
    id: string;
    from: string;
    currency: string;
    amount: Amount;
    timeoutSeconds: number;
    userData?: Record<string, unknown>;
  }): Promise<{ transfer: Transfer; duplicate: boolean }>;
  balance(accountId: string): Promise<Balance>;
  history(accountId: string, page?: { limit?: number; beforeSeq?: bigint }): Promise<Transfer[]>;
  /** Releases holds past their expiry; returns how many it released. */
  expireDue(limit?: number): Promise<number>;
  verify(): Promise<VerifyReport>;
  /** Opens the account for (owner, currency, purpose), sealed under the ledger key, or returns the one that exists. */
  ensureAccount(key: AccountKey): Promise<Account>;
  /**
   * Once, after upgrading to account MACs: seals accounts opened before them (refusing any whose
   * flags disagree with their purpose) and exports the chain head as a sealed checkpoint.
   */
  sealAccounts(): Promise<SealAccountsResult & { checkpoint: ExportOutcome | undefined }>;
  /** The chain head as last committed by this process. */
  head(): ChainHead | undefined;
  /** Batch counters of this process's writer: batches, ops, retries, time reading and writing. */
  stats(): Readonly<{
    batches: number;
    ops: number;
    retries: number;
    cached: number;
    loadMs: number;
    writeMs: number;
    statementMs: number;
    statementMaxMs: number;
  }>;
  close(): Promise<void>;
}

const errorsByCode = {
  insufficient_funds: InsufficientFundsError,
  idempotency_conflict: IdempotencyConflictError,
  account_not_found: NotFoundError,
  pending_not_found: NotFoundError,
  peer_transfers_not_allowed: ForbiddenError,
} as const;

/** Creates the ledger over a database; one per process, since it owns that process's batch writer. */
export function createLedger(options: LedgerOptions): Ledger {
  assertHmacKey(options.hmacKey);
  const clock = options.clock ?? (() => new Date());
  let head: ChainHead | undefined;
  const exporter =
    options.checkpointPath === undefined
      ? undefined
      : createCheckpointExporter({
          db: options.db,
          hmacKey: options.hmacKey,
          path: options.checkpointPath,
          clock,
          intervalMs: options.checkpointIntervalMs,
        });
  const writer = new BatchWriter({
    db: options.db,
    hmacKey: options.hmacKey,
    clock,
    batchIntervalMs: options.batchIntervalMs,
    onCommit: (committed) => {
      if (head === undefined || committed.batchSeq > head.batchSeq) head = committed;
      exporter?.committed(committed);
    },
  });

  const submit = async (ops: LedgerOp[]): Promise<OpResult[]> => {
    if (ops.length > batchOpsMax) throw new ValidationError(`At most ${batchOpsMax} operations per call.`);
    // The common case, every op well formed: straight to the writer, results in the same order.
    let allValid = true;
    for (const op of ops) {
      if (invalidReason(op) !== undefined) {
        allValid = false;
        break;
      }
    }
    if (allValid) return writer.submit(ops.map(storableOp));
    // A malformed op never reaches the database; the rest of its linked chain fails with it.
    const results: (OpResult | undefined)[] = new Array(ops.length).fill(undefined);
    const valid: LedgerOp[] = [];
    const validIndexes: number[] = [];
    let index = 0;
    for (const chain of chainsOf(ops)) {
      const reasons = chain.map(invalidReason);
      const bad = reasons.findIndex((reason) => reason !== undefined);
      chain.forEach((op, offset) => {
        if (bad < 0) {
          valid.push(storableOp(op));
          validIndexes.push(index + offset);
        } else {
          const reason = reasons[offset];
          results[index + offset] =
            reason === undefined
              ? {
                  ok: false,
                  code: 'linked_event_failed',
                  message: `Not applied: op ${index + bad} of its linked chain is invalid.`,
                }
              : { ok: false, code: 'invalid', message: reason };
        }
      });
      index += chain.length;
    }
    const committed = await writer.submit(valid);
    committed.forEach((result, position) => (results[validIndexes[position] as number] = result));
    return results as OpResult[];
  };

  const execute = async (op: LedgerOp) => {
    const [result] = await submit([op]);
    if (result === undefined) throw new Error('no result for a submitted op');
    if (result.ok) return { transfer: result.transfer, duplicate: result.duplicate };
    const ErrorClass = errorsByCode[result.code as keyof typeof errorsByCode] ?? ValidationError;
    throw new ErrorClass(result.message, { ledgerCode: result.code });
  };

  const reservations = new IssuanceReservations();
  const openSealed = (key: AccountKey) => ensureAccount(options.db, key, options.hmacKey);
  const issuance = createIssuanceMeter(options.db, openSealed);
  const issuanceAccounts = createAccountLookup(openSealed);
  /**
   * Moves `amount` from the org's issuance account to `to`, an account of the same org. A replay of a
   * committed id goes straight to the ledger (same body: the first result; another: a conflict), so
   * a retry is never refused by a bound the first attempt already counted.
   */
  const issue = async (params: {
    id: string;
    to: string;
    currency: string;
    amount: Amount;
    actor: string;
    orgId: string;
    code: string;
    userData: Record<string, unknown>;
    action: string;
  }) => {
    const target = await findAccountById(options.db, params.to);
    if (target === undefined) throw new NotFoundError(`No ledger account ${params.to}.`);
    if (target.orgId !== params.orgId)
      throw new ForbiddenError(
        `Account ${params.to} is not of org ${params.orgId}: an org grants only into its own accounts.`,
      );
    const source = await issuanceAccounts(orgIssuanceKey(params));
    const op: LedgerOp = {
      type: 'transfer',
      id: params.id,
      debitAccountId: source.id,
      creditAccountId: params.to,
      amount: params.amount,
      code: params.code,
      userData: params.userData,
      audit: { orgId: params.orgId, actor: params.actor, action: params.action },
    };
    if ((await getTransfer(options.db, params.id)) !== undefined) return execute(op);
    const reservation = reservations.reserve(`${params.orgId}:${params.currency}`, params.amount);
    try {
      const status = await issuance.status({ orgId: params.orgId, currency: params.currency, at: clock() });
      assertWithinGrantBounds({
        bounds: status.bounds,
        currency: params.currency,
        amount: params.amount,
        // Other grants of this org in flight in this process count as issued.
        issuedThisMonth: status.issuedThisMonth + reservation.reservedTotal - params.amount,
        period: status.period,
        timeZone: status.timeZone,
        orgLabel: `org ${status.orgSlug}`,
      });
      return await execute(op);
    } finally {
      reservation.release();
    }
  };

  /**
   * A grant committed under the admin's raw id before ids were namespaced by org: a retry of it is a
   * replay, never a second grant. A raw id of another org's transfer is ignored, so it reveals nothing.
   */
  const legacyGrant = async (params: { id: string; to: string; amount: Amount; orgId: string }) => {
    const prior = await getTransfer(options.db, params.id);
    if (prior === undefined || prior.code !== 'grant' || prior.type !== 'transfer') return undefined;
    const credited = await findAccountById(options.db, prior.creditAccountId);
    if (credited?.orgId !== params.orgId) return undefined;
    if (prior.creditAccountId !== params.to || prior.amount !== params.amount) {
      throw new IdempotencyConflictError(
        `Grant id "${params.id}" was already used in this org for a different grant; use a new id for a new grant.`,
        { id: params.id },
      );
    }
    return { transfer: prior, duplicate: true };
  };

  return {
    submit,
    execute,
    async grant(params) {
      const id = grantTransferId(params.orgId, params.id);
      const legacy = await legacyGrant(params);
      if (legacy !== undefined) return legacy;
      try {
        return await issue({
          ...params,
          id,
          code: 'grant',
          userData: { reason: params.reason },
          action: 'ledger.grant',
        });
      } catch (error) {
        // Only this org's own grant can hold a namespaced id; the message still names no amount.
        if (error instanceof IdempotencyConflictError)
          throw new IdempotencyConflictError(
            `Grant id "${params.id}" was already used in this org for a different grant; use a new id for a new grant.`,
            { id: params.id },
          );
        throw error;
      }
    },
    async grantAllowance(params) {
      const period = monthlyPeriod(params.at, params.timeZone);
      const result = await issue({
        ...params,
        id: `allowance-${params.to}-${period}`,
        code: 'allowance',
        userData: { period },
        action: 'ledger.allowance',
      });
      return { ...result, period };
    },
    async hold(params) {
      const sink = await consumptionAccount(options.db, params.currency, options.hmacKey);
      return execute({
        type: 'pending',
        id: params.id,
        debitAccountId: params.from,
        creditAccountId: sink.id,
        amount: params.amount,
        timeoutSeconds: params.timeoutSeconds,
        code: 'hold',
        userData: params.userData,
      });
    },
    async balance(accountId) {
      const balance = await getBalance(options.db, accountId);
      if (balance === undefined) throw new NotFoundError(`No ledger account ${accountId}.`);
      return balance;
    },
    history: (accountId, page = {}) => getHistory(options.db, { accountId, ...page }),
    async expireDue(limit = 500) {
      const ids = await findExpiredPending(options.db, { now: clock(), limit });
      if (ids.length === 0) return 0;
      const results = await submit(
        ids.map((pendingId) => ({ type: 'expire' as const, id: expireTransferId(pendingId), pendingId })),
      );
      return results.filter((result) => result.ok && !result.duplicate).length;
    },
    verify: () => verifyLedger(options.db, { hmacKey: options.hmacKey, checkpointPath: options.checkpointPath }),
    ensureAccount: (key) => ensureAccount(options.db, key, options.hmacKey),
    async sealAccounts() {
      const sealed = await sealAccounts(options.db, options.hmacKey);
      const current = await readChainHead(options.db);
      const checkpoint =
        exporter === undefined || current === undefined ? undefined : await exporter.exportHead(current);
      return { ...sealed, checkpoint };
    },
    head: () => head,
    stats: () => ({ ...writer.stats }),
    async close() {
      await writer.close();
      await exporter?.flush();
    },
  };
}
