import { bigserial, index, pgTable, text, timestamp, uuid } from 'drizzle-orm/pg-core';
import { codecJsonb } from './columns';
import { orgs } from './orgs';

/**
 * Who changed what, from what, to what, and when. Every mutation writes a row in the same
 * transaction as the change. Append-only: the migration installs a trigger refusing UPDATE and DELETE.
 */
export const auditLog = pgTable(
  'audit_log',
  {
    id: bigserial({ mode: 'bigint' }).primaryKey(),
    orgId: uuid().references(() => orgs.id),
    /** `user:<uuid>`, `apikey:<id>`, `system:<component>`. */
    actor: text().notNull(),
    /** Dotted verb, e.g. `org.create`, `ledger.grant`. */
    action: text().notNull(),
    entityType: text().notNull(),
    entityId: text().notNull(),
    before: codecJsonb(),
    after: codecJsonb(),
    at: timestamp({ withTimezone: true }).notNull().defaultNow(),
  },
  (table) => [
    index('audit_log_entity_idx').on(table.entityType, table.entityId),
    index('audit_log_org_at_idx').on(table.orgId, table.at),
  ],
);
