import { sql } from 'drizzle-orm';
import { check, index, pgTable, text, timestamp, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { orgs, teams } from './orgs';

/** Roles, from least to most privileged in what they may change. */
export const roles = ['employee', 'lead', 'esg', 'admin'] as const;
export type Role = (typeof roles)[number];

export const users = pgTable(
  'users',
  {
    id: uuid().primaryKey().defaultRandom(),
    orgId: uuid()
      .notNull()
      .references(() => orgs.id),
    teamId: uuid().references(() => teams.id),
    email: text().notNull(),
    displayName: text().notNull(),
    roles: text()
      .array()
      .$type<Role[]>()
      .notNull()
      .default(sql`'{employee}'::text[]`),
    createdAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
  },
  (table) => [
    uniqueIndex('users_org_email_key').on(table.orgId, sql`lower(${table.email})`),
    index('users_team_idx').on(table.teamId),
    check('users_roles_known', sql`${table.roles} <@ array['employee','lead','esg','admin']::text[]`),
  ],
);
