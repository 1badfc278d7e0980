import { sql } from 'drizzle-orm';
import { bigint, boolean, check, index, integer, pgTable, primaryKey, text, timestamp, uuid } from 'drizzle-orm/pg-core';
import { carbonRaises } from './carbon';
import { notifications } from './settlement';
import { users } from './users';

/** Where a notification's Slack delivery stands; every state but `pending` is final. */
export const slackDeliveryStates = ['pending', 'sent', 'muted', 'no_slack_user', 'no_recipient', 'failed'] as const;
export type SlackDeliveryState = (typeof slackDeliveryStates)[number];

/**
 * The Slack delivery of one notification row: attempts, when the next may run, who holds it
 * (a lease, so two bot processes do not both send it) and how it ended. A row is `sent` right
 * after Slack accepted the message, so a duplicate needs a crash in between (at least once).
 */
export const slackDeliveries = pgTable(
  'slack_deliveries',
  {
    notificationId: bigint({ mode: 'bigint' })
      .primaryKey()
      .references(() => notifications.id),
    orgId: uuid().notNull(),
    userId: uuid(),
    kind: text().notNull(),
    state: text().$type<SlackDeliveryState>().notNull().default('pending'),
    attempts: integer().notNull().default(0),
    nextAttemptAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
    /** Until when `leaseOwner` may send it; a lapsed lease (a crashed process) frees the row. */
    leasedUntil: timestamp({ withTimezone: true }),
    leaseOwner: text(),
    /** The last failure, a Slack error code or a short message (never a token). */
    lastError: text(),
    /** The DM the message went to and its ts (a digest's rows share one). */
    channel: text(),
    ts: text(),
    sentAt: timestamp({ withTimezone: true }),
    createdAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
  },
  (table) => [
    index('slack_deliveries_due_idx')
      .on(table.orgId, table.nextAttemptAt)
      .where(sql`${table.state} = 'pending'`),
    index('slack_deliveries_user_pending_idx')
      .on(table.userId, table.kind)
      .where(sql`${table.state} = 'pending'`),
    check(
      'slack_deliveries_state',
      sql`${table.state} in ('pending', 'sent', 'muted', 'no_slack_user', 'no_recipient', 'failed')`,
    ),
    check('slack_deliveries_attempts_non_negative', sql`${table.attempts} >= 0`),
  ],
);

/** A user's Slack preferences and digest state: settlement messages muted, when the last digest went. */
export const slackUserStates = pgTable(
  'slack_user_states',
  {
    userId: uuid()
      .primaryKey()
      .references(() => users.id),
    orgId: uuid().notNull(),
    /** Set from App Home: settlement results are then marked handled and never sent. */
    settlementsMuted: boolean().notNull().default(false),
    lastDigestAt: timestamp({ withTimezone: true }),
    /** Held while one process sends this user's digest, so two processes never send two. */
    digestLeasedUntil: timestamp({ withTimezone: true }),
    digestLeaseOwner: text(),
    updatedAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
  },
  (table) => [index('slack_user_states_org_idx').on(table.orgId)],
);

/**
 * The copy of a raise request each ESG officer got (channel and ts, for `chat.update`), and which
 * state it shows: a copy still showing `pending` after the raise was decided is updated again
 * until Slack takes it.
 */
export const slackRaiseMessages = pgTable(
  'slack_raise_messages',
  {
    raiseId: uuid()
      .notNull()
      .references(() => carbonRaises.id),
    userId: uuid().notNull(),
    channel: text().notNull(),
    ts: text().notNull(),
    shownState: text().$type<'pending' | 'approved' | 'denied'>().notNull().default('pending'),
    postedAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp({ withTimezone: true }),
  },
  (table) => [
    primaryKey({ columns: [table.raiseId, table.userId] }),
    index('slack_raise_messages_stale_idx')
      .on(table.raiseId)
      .where(sql`${table.shownState} = 'pending'`),
    check('slack_raise_messages_shown_state', sql`${table.shownState} in ('pending', 'approved', 'denied')`),
  ],
);
