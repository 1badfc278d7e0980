import {
  bigint,
  boolean,
  index,
  integer,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';
import { codecJsonb } from './columns';
import { apiKeys } from './gateway';
import { orgs } from './orgs';
import { users } from './users';

/**
 * Service keys with the `experiments` scope (an api_keys row owned by system account `experiments`)
 * and the admin who created each: the "submitter" whose own requests never count as evidence for
 * the results this key submits.
 */
export const experimentServiceKeys = pgTable('experiment_service_keys', {
  keyId: text()
    .primaryKey()
    .references(() => apiKeys.id),
  orgId: uuid()
    .notNull()
    .references(() => orgs.id),
  createdByUserId: uuid()
    .notNull()
    .references(() => users.id),
  createdAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
});

/**
 * One submitted A/B result, stored for audit: the summaries as the platform sent them, what the
 * submission matched, and the relay's progress through the experiment's tagged requests.
 */
export const experimentResults = pgTable(
  'experiment_results',
  {
    id: uuid().primaryKey().defaultRandom(),
    orgId: uuid()
      .notNull()
      .references(() => orgs.id),
    /** The platform's id of the result: redelivery with the same id and content is a no-op. */
    resultId: text().notNull(),
    experimentKey: text().notNull(),
    metricId: text().notNull(),
    higherIsBetter: boolean().notNull(),
    startedAt: timestamp({ withTimezone: true }).notNull(),
    endedAt: timestamp({ withTimezone: true }),
    /** `[{ key, summary, weight? }]`, as validated by abVariationSchema. */
    variations: codecJsonb().notNull(),
    /** SHA-256 of the canonical submission: a redelivery with other content is a conflict. */
    contentSha256: text().notNull(),
    submittedByKeyId: text()
      .notNull()
      .references(() => apiKeys.id),
    /** The admin who created the submitting key, fixed at submission. */
    submitterUserId: uuid()
      .notNull()
      .references(() => users.id),
    taggedRequests: bigint({ mode: 'number' }).notNull(),
    assignedUsers: integer().notNull(),
    unmatchedAssignments: integer().notNull(),
    /** Relay cursor: the greatest request id of the experiment's tagged usage rows already signalled. */
    cursorRequestId: text(),
    /** Settlements signalled, and those skipped because they were closed or never started. */
    signalledSettlements: integer().notNull().default(0),
    skippedSettlements: integer().notNull().default(0),
    relayedAt: timestamp({ withTimezone: true }),
    createdAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
  },
  (table) => [
    uniqueIndex('experiment_results_org_result_key').on(table.orgId, table.resultId),
    index('experiment_results_org_experiment_idx').on(table.orgId, table.experimentKey, table.createdAt),
  ],
);

/** A result's assignments, resolved to users of the result's org; a user may be listed under one variant once. */
export const experimentAssignments = pgTable(
  'experiment_assignments',
  {
    resultRowId: uuid()
      .notNull()
      .references(() => experimentResults.id),
    userId: uuid()
      .notNull()
      .references(() => users.id),
    variantKey: text().notNull(),
  },
  (table) => [primaryKey({ columns: [table.resultRowId, table.userId, table.variantKey] })],
);
