import { sql } from 'drizzle-orm';
import { boolean, check, pgTable, text, timestamp, uniqueIndex, uuid } from 'drizzle-orm/pg-core';

/** An organisation: the tenant. Budget periods and allowances are computed in its IANA time zone. */
export const orgs = pgTable(
  'orgs',
  {
    id: uuid().primaryKey().defaultRandom(),
    slug: text().notNull(),
    name: text().notNull(),
    timeZone: text().notNull().default('UTC'),
    /** Whether employees may move tokens to each other (off by default: tokens are pay, not currency). */
    allowPeerTransfers: boolean().notNull().default(false),
    /** The operator's own org: its admins may change platform-wide settings (clusters). At most one. */
    platform: boolean().notNull().default(false),
    /** Low and normal priority requests prefer the cleanest healthy cluster serving their model. */
    carbonAwareRouting: boolean().notNull().default(true),
    createdAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
  },
  (table) => [
    uniqueIndex('orgs_slug_key').on(table.slug),
    uniqueIndex('orgs_one_platform_key')
      .on(table.platform)
      .where(sql`${table.platform}`),
    check('orgs_slug_format', sql`${table.slug} ~ '^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$'`),
    check('orgs_time_zone_present', sql`length(${table.timeZone}) between 1 and 64`),
  ],
);

/** A team inside an org; scoring and settlement policy are chosen per team. */
export const teams = pgTable(
  'teams',
  {
    id: uuid().primaryKey().defaultRandom(),
    orgId: uuid()
      .notNull()
      .references(() => orgs.id),
    slug: text().notNull(),
    name: text().notNull(),
    createdAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
  },
  (table) => [uniqueIndex('teams_org_slug_key').on(table.orgId, table.slug)],
);
