import { sql } from 'drizzle-orm';
import { check, date, index, integer, pgTable, primaryKey, text, timestamp, uuid } from 'drizzle-orm/pg-core';
import { amount } from './columns';
import { orgs } from './orgs';

/**
 * Carbon caps, versioned like policies: each change is a new version of the cap of one scope (the
 * org, a team or a user), and the newest version is the cap. `hardMicrograms` null: the cap was
 * removed (no limit). The scope id is the org's, team's or user's UUID.
 */
export const carbonCaps = pgTable(
  'carbon_caps',
  {
    orgId: uuid()
      .notNull()
      .references(() => orgs.id),
    scope: text().$type<'org' | 'team' | 'user'>().notNull(),
    scopeId: uuid().notNull(),
    version: integer().notNull(),
    period: text().$type<'month' | 'quarter'>().notNull(),
    /** Micrograms CO2e per period; null: no cap (this version removed it). */
    hardMicrograms: amount(),
    /** Percent of the cap at which one notification per period is recorded; null: none. */
    softPercent: integer(),
    createdBy: text().notNull(),
    createdAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
  },
  (table) => [
    primaryKey({ columns: [table.scope, table.scopeId, table.version] }),
    index('carbon_caps_org_idx').on(table.orgId),
    check('carbon_caps_scope', sql`${table.scope} in ('org', 'team', 'user')`),
    check('carbon_caps_period', sql`${table.period} in ('month', 'quarter')`),
    check('carbon_caps_hard_non_negative', sql`${table.hardMicrograms} is null or ${table.hardMicrograms} >= 0`),
    check('carbon_caps_soft_percent', sql`${table.softPercent} is null or ${table.softPercent} between 1 and 100`),
    check('carbon_caps_version_positive', sql`${table.version} >= 1`),
  ],
);

/**
 * A request to raise a carbon cap, and its decision. The first decision wins (a conditional update
 * from `pending`); an approval's grant is the ledger transfer `carbon-raise-<id>` into the budget of
 * the period it was decided in (and, with `until`, `carbon-raise-<id>-<period>` into each later one).
 */
export const carbonRaises = pgTable(
  'carbon_raises',
  {
    id: uuid().primaryKey().defaultRandom(),
    orgId: uuid()
      .notNull()
      .references(() => orgs.id),
    scope: text().$type<'org' | 'team' | 'user'>().notNull(),
    scopeId: uuid().notNull(),
    /** The user who asked. */
    requestedBy: uuid().notNull(),
    requestedMicrograms: amount().notNull(),
    reason: text().notNull(),
    /** Last day (ISO date, org time zone) the raise applies to; null: the current period only. */
    until: date({ mode: 'string' }),
    state: text().$type<'pending' | 'approved' | 'denied'>().notNull().default('pending'),
    /** When nobody deciding by then denies it (the approval workflow's deadline). */
    deadlineAt: timestamp({ withTimezone: true }).notNull(),
    /** A user id, or `deadline` when the workflow denied it for want of a decision. */
    decidedBy: text(),
    decidedAt: timestamp({ withTimezone: true }),
    grantedMicrograms: amount(),
    /** The period the grant went to (decided in); later periods of an `until` raise are funded lazily. */
    grantedPeriod: text(),
    note: text(),
    /** An `until` raise's end, set by its workflow at its last period's close. */
    endedAt: timestamp({ withTimezone: true }),
    createdAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
  },
  (table) => [
    index('carbon_raises_org_state_idx').on(table.orgId, table.state, table.createdAt),
    check('carbon_raises_scope', sql`${table.scope} in ('org', 'team', 'user')`),
    check('carbon_raises_state', sql`${table.state} in ('pending', 'approved', 'denied')`),
    check('carbon_raises_requested_positive', sql`${table.requestedMicrograms} > 0`),
    check(
      'carbon_raises_granted_within_request',
      sql`${table.grantedMicrograms} is null or (${table.grantedMicrograms} >= 0 and ${table.grantedMicrograms} <= ${table.requestedMicrograms})`,
    ),
    check('carbon_raises_reason_length', sql`length(${table.reason}) between 1 and 1000`),
  ],
);
