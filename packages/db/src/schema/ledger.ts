import { sql } from 'drizzle-orm';
import {
  bigint,
  boolean,
  check,
  index,
  integer,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';
import { amount, codecJsonb } from './columns';
import { orgs } from './orgs';

/**
 * Ledger accounts, modelled on TigerBeetle: posted and pending debit and credit totals. Wallets set
 * `debitsMustNotExceedCredits`. Hot system accounts (consumption) set `balanceDerived`: their
 * totals stay zero here and their balance is summed from the journal, so no batch ever waits on
 * their row.
 */
export const ledgerAccounts = pgTable(
  'ledger_accounts',
  {
    id: uuid().primaryKey().defaultRandom(),
    orgId: uuid().references(() => orgs.id),
    ownerType: text().$type<'user' | 'team' | 'org' | 'system'>().notNull(),
    ownerId: text().notNull(),
    currency: text().notNull(),
    /** wallet, issuance, consumption, reward_pool, ... */
    purpose: text().notNull(),
    debitsMustNotExceedCredits: boolean().notNull(),
    balanceDerived: boolean().notNull().default(false),
    debitsPending: amount()
      .notNull()
      .default(sql`0`),
    debitsPosted: amount()
      .notNull()
      .default(sql`0`),
    creditsPending: amount()
      .notNull()
      .default(sql`0`),
    creditsPosted: amount()
      .notNull()
      .default(sql`0`),
    createdAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
    /**
     * HMAC, under the ledger key the database never holds, of the account's id, org, owner,
     * currency, purpose and flags: written when the account is opened, checked by verify. Null
     * only for accounts opened before account MACs, until `tokenwise ledger seal-accounts`.
     */
    accountMac: text(),
  },
  (table) => [
    uniqueIndex('ledger_accounts_owner_key').on(table.ownerType, table.ownerId, table.currency, table.purpose),
    check('ledger_accounts_owner_type', sql`${table.ownerType} in ('user', 'team', 'org', 'system')`),
    check(
      'ledger_accounts_totals_non_negative',
      sql`${table.debitsPending} >= 0 and ${table.debitsPosted} >= 0 and ${table.creditsPending} >= 0 and ${table.creditsPosted} >= 0`,
    ),
    // The last line of defence behind the writer's own check: a wallet never goes below zero.
    check(
      'ledger_accounts_wallet_not_negative',
      sql`not ${table.debitsMustNotExceedCredits} or ${table.debitsPending} + ${table.debitsPosted} <= ${table.creditsPosted}`,
    ),
  ],
);

export const transferTypes = ['transfer', 'pending', 'post', 'void', 'expire'] as const;
export type TransferType = (typeof transferTypes)[number];

/**
 * The journal: immutable, append-only (trigger and privileges), one row per committed transfer.
 * `seq` is assigned by the batch writer under the chain lock, contiguous within a batch; `rowMac`
 * is an HMAC of the row under a key the database never sees.
 */
export const ledgerTransfers = pgTable(
  'ledger_transfers',
  {
    seq: bigint({ mode: 'bigint' }).primaryKey(),
    /** The caller's idempotency key. */
    id: text().notNull(),
    type: text().$type<TransferType>().notNull(),
    debitAccountId: uuid().notNull(),
    creditAccountId: uuid().notNull(),
    currency: text().notNull(),
    /** For `post`: the amount posted. For `void` and `expire`: the pending amount released. */
    amount: amount().notNull(),
    /** For post, void and expire: the pending transfer resolved. At most one resolution each. */
    pendingId: text(),
    /** For pending transfers: when the hold lapses. */
    expiresAt: timestamp({ withTimezone: true, precision: 3 }),
    code: text().notNull(),
    userData: codecJsonb(),
    batchSeq: bigint({ mode: 'bigint' }).notNull(),
    createdAt: timestamp({ withTimezone: true, precision: 3 }).notNull(),
    rowMac: text().notNull(),
  },
  (table) => [
    uniqueIndex('ledger_transfers_id_key').on(table.id),
    uniqueIndex('ledger_transfers_pending_resolution_key')
      .on(table.pendingId)
      .where(sql`${table.pendingId} is not null`),
    index('ledger_transfers_debit_idx').on(table.debitAccountId, table.seq),
    index('ledger_transfers_credit_idx').on(table.creditAccountId, table.seq),
    index('ledger_transfers_expiry_idx')
      .on(table.expiresAt)
      .where(sql`${table.type} = 'pending'`),
    check('ledger_transfers_type', sql`${table.type} in ('transfer', 'pending', 'post', 'void', 'expire')`),
    check('ledger_transfers_amount_non_negative', sql`${table.amount} >= 0`),
    check('ledger_transfers_distinct_accounts', sql`${table.debitAccountId} <> ${table.creditAccountId}`),
  ],
);

/** One row per committed batch: the HMAC chain that makes the journal tamper-evident. */
export const ledgerBatches = pgTable('ledger_batches', {
  seq: bigint({ mode: 'bigint' }).primaryKey(),
  prevMac: text().notNull(),
  mac: text().notNull(),
  firstTransferSeq: bigint({ mode: 'bigint' }).notNull(),
  lastTransferSeq: bigint({ mode: 'bigint' }).notNull(),
  transferCount: integer().notNull(),
  createdAt: timestamp({ withTimezone: true, precision: 3 }).notNull(),
});

/**
 * The highest chain head any writer exported, MAC'd under the ledger key: a second record of the
 * checkpoint, in the other trust domain (the database rather than the host's files). A checkpoint
 * file replaced by an older one disagrees with it; a database whose tail was cut disagrees with the
 * file. Only someone holding both, or the key, can roll the two back together. One row (id 1).
 */
export const ledgerCheckpointHighWater = pgTable(
  'ledger_checkpoint_high_water',
  {
    id: integer().primaryKey(),
    batchSeq: bigint({ mode: 'bigint' }).notNull(),
    mac: text().notNull(),
    lastTransferSeq: bigint({ mode: 'bigint' }).notNull(),
    at: text().notNull(),
    recordMac: text().notNull(),
  },
  (table) => [check('ledger_checkpoint_high_water_one_row', sql`${table.id} = 1`)],
);

/**
 * How much an org may issue in one currency, set by the platform operator (never by the org's own
 * admins): one grant at most `grantAmountMax`, one calendar month (org's time zone) at most
 * `monthlyIssuanceMax`. An org without a row has the platform defaults (core's grantBoundsDefault).
 */
export const grantBounds = pgTable(
  'grant_bounds',
  {
    orgId: uuid()
      .notNull()
      .references(() => orgs.id),
    currency: text().notNull(),
    grantAmountMax: amount().notNull(),
    monthlyIssuanceMax: amount().notNull(),
    updatedBy: text().notNull(),
    updatedAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
  },
  (table) => [
    primaryKey({ columns: [table.orgId, table.currency] }),
    check('grant_bounds_positive', sql`${table.grantAmountMax} > 0 and ${table.monthlyIssuanceMax} > 0`),
  ],
);
