import { index, pgTable, primaryKey, text, timestamp, uuid } from 'drizzle-orm/pg-core';
import { orgs } from './orgs';

/**
 * Keys under which a waiting settlement recognises its evidence (a session id, a code
 * fingerprint), written when a plugin answers `pending` with `evidenceKeys`. Whatever receives
 * evidence (a webhook relay) finds the requests it concerns here, never by scanning Temporal. A key
 * is kept until the request's evidence window closes (`expiresAt`), then purged.
 */
export const evidenceIndex = pgTable(
  'evidence_index',
  {
    orgId: uuid()
      .notNull()
      .references(() => orgs.id),
    pluginId: text().notNull(),
    key: text().notNull(),
    requestId: text().notNull(),
    requestCreatedAt: timestamp({ withTimezone: true }).notNull(),
    expiresAt: timestamp({ withTimezone: true }).notNull(),
  },
  (table) => [
    primaryKey({ columns: [table.orgId, table.pluginId, table.key, table.requestId] }),
    index('evidence_index_expires_idx').on(table.expiresAt),
  ],
);
