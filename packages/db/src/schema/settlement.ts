import { sql } from 'drizzle-orm';
import {
  bigserial,
  check,
  doublePrecision,
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
import { orgs, teams } from './orgs';

/** A team's scoring configuration, versioned: which plugins run, their weights and configs. */
export const scoringConfigs = pgTable(
  'scoring_configs',
  {
    teamId: uuid()
      .notNull()
      .references(() => teams.id),
    version: integer().notNull(),
    /** [{ pluginId, weight, config }], each config valid for its plugin's schema when written. */
    plugins: codecJsonb().notNull(),
    createdBy: text().notNull(),
    createdAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
  },
  (table) => [primaryKey({ columns: [table.teamId, table.version] })],
);

/** A team's settlement policy, versioned: a request settles under the version pinned at admission. */
export const settlementPolicies = pgTable(
  'settlement_policies',
  {
    teamId: uuid()
      .notNull()
      .references(() => teams.id),
    version: integer().notNull(),
    body: codecJsonb().notNull(),
    createdBy: text().notNull(),
    createdAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
  },
  (table) => [primaryKey({ columns: [table.teamId, table.version] })],
);

/** Org-wide bounds (largest refund share, largest reward) that no team policy may exceed. */
export const settlementBounds = pgTable('settlement_bounds', {
  orgId: uuid()
    .primaryKey()
    .references(() => orgs.id),
  body: codecJsonb().notNull(),
  updatedBy: text().notNull(),
  updatedAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
});

/**
 * What every user of an org holding `role` is granted each month in `currency` (minor units).
 * A schedule that grants nothing is removed, not stored, so every row here grants something.
 */
export const allowanceSchedules = pgTable(
  'allowance_schedules',
  {
    orgId: uuid()
      .notNull()
      .references(() => orgs.id),
    role: text().notNull(),
    currency: text().notNull(),
    amount: amount().notNull(),
    updatedBy: text().notNull(),
    updatedAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
  },
  (table) => [
    primaryKey({ columns: [table.orgId, table.role, table.currency] }),
    check('allowance_schedules_role_known', sql`${table.role} in ('employee','lead','esg','admin')`),
    check('allowance_schedules_amount_positive', sql`${table.amount} > 0`),
  ],
);

/**
 * What an org's judge wallet is funded with each month in `currency` (minor units), from the org's
 * issuance, by the hourly allowance schedule: the org's judging is paid from it. No row: no funding.
 */
export const judgeBudgets = pgTable(
  'judge_budgets',
  {
    orgId: uuid()
      .notNull()
      .references(() => orgs.id),
    currency: text().notNull(),
    amount: amount().notNull(),
    updatedBy: text().notNull(),
    updatedAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
  },
  (table) => [
    primaryKey({ columns: [table.orgId, table.currency] }),
    check('judge_budgets_amount_positive', sql`${table.amount} > 0`),
  ],
);

/** The outcome of one request's settlement: score, evidence per plugin, policy version, transfers. */
export const settlements = pgTable('settlements', {
  requestId: text().primaryKey(),
  score: doublePrecision(),
  confidence: doublePrecision().notNull(),
  policyVersion: integer(),
  refund: amount().notNull(),
  refundCurrency: text().notNull(),
  reward: amount().notNull(),
  rewardCurrency: text(),
  /** Each plugin's status, score, confidence, evidence and rationale (or error). */
  results: codecJsonb().notNull(),
  reason: text().notNull(),
  settledAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
});

/** Events for people (the Slack bot delivers them): settlement results, cap alerts, ... */
export const notifications = pgTable(
  'notifications',
  {
    id: bigserial({ mode: 'bigint' }).primaryKey(),
    orgId: uuid().notNull(),
    userId: uuid(),
    kind: text().notNull(),
    payload: codecJsonb().notNull(),
    createdAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
    deliveredAt: timestamp({ withTimezone: true }),
    /** Set for notifications that must be recorded once (a soft threshold per period and recipient). */
    dedupeKey: text(),
  },
  (table) => [
    index('notifications_pending_idx').on(table.id),
    /** The Slack bot's scan for notifications of its org it has not picked up yet. */
    index('notifications_undelivered_org_idx')
      .on(table.orgId, table.id)
      .where(sql`${table.deliveredAt} is null`),
    uniqueIndex('notifications_dedupe_key')
      .on(table.dedupeKey)
      .where(sql`${table.dedupeKey} is not null`),
  ],
);
