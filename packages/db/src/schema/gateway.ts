import { sql } from 'drizzle-orm';
import {
  bigserial,
  boolean,
  check,
  index,
  integer,
  pgTable,
  text,
  timestamp,
  uniqueIndex,
  uuid,
  type AnyPgColumn,
} from 'drizzle-orm/pg-core';
import { amount, codecJsonb } from './columns';
import { orgs } from './orgs';
import { users } from './users';

/**
 * API keys `tw_<id>_<secret>`: looked up by id, the secret checked against an HMAC-SHA-256 under a
 * server-side pepper (never a slow password hash on the hot path, never the secret itself).
 */
export const apiKeys = pgTable(
  'api_keys',
  {
    id: text().primaryKey(),
    orgId: uuid()
      .notNull()
      .references(() => orgs.id),
    /** The employee the key bills; null for system keys (judge calls), which bill `systemOwner`. */
    userId: uuid().references(() => users.id),
    /** For system keys: the system account owner id that pays (e.g. `judge`). */
    systemOwner: text(),
    name: text().notNull(),
    secretHmac: text().notNull(),
    /** `experiments` only alone, on a key of system account `experiments` (a service key, see experiments.ts). */
    scopes: text().array().$type<('inference' | 'api' | 'experiments')[]>().notNull(),
    /** null: every model the org serves. */
    allowedModels: text().array(),
    rpmLimit: integer(),
    tpmLimit: integer(),
    expiresAt: timestamp({ withTimezone: true }),
    revokedAt: timestamp({ withTimezone: true }),
    /** Set on the old key when rotated: it keeps working until its `expiresAt` (the overlap). */
    replacedBy: text(),
    /**
     * Set on keys the server mints for its own calls (never on a key a person creates): `judge`, an
     * org's judge key; `plugin_dry_run`, a lead's key for plugin dry runs, whose usage is never
     * settled nor dry-run itself, since its stored prompt quotes another request.
     */
    mintedFor: text().$type<'judge' | 'plugin_dry_run'>(),
    /**
     * The key that created this one through the API (a user deriving a key from their own, or an
     * admin's key creating one for someone); null when the CLI created it. Revoking with cascade
     * follows these links down.
     */
    createdByKeyId: text().references((): AnyPgColumn => apiKeys.id),
    createdAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
  },
  (table) => [
    index('api_keys_user_idx').on(table.userId),
    index('api_keys_created_by_key_idx').on(table.createdByKeyId),
    check('api_keys_owner', sql`(${table.userId} is not null) <> (${table.systemOwner} is not null)`),
    check('api_keys_minted_for', sql`${table.mintedFor} in ('judge', 'plugin_dry_run')`),
    check(
      'api_keys_scopes',
      sql`${table.scopes} <@ array['inference','api','experiments']::text[] and cardinality(${table.scopes}) > 0`,
    ),
    check(
      'api_keys_experiments_scope_alone',
      sql`not ('experiments' = any(${table.scopes})) or (${table.scopes} = array['experiments']::text[] and ${table.systemOwner} = 'experiments')`,
    ),
  ],
);

/**
 * Versioned price lists. An org's newest list prices its requests; an org without one pays the
 * newest platform default (`orgId` null). Versions are one sequence across orgs, so the version a
 * usage row names identifies exactly one list.
 */
export const priceLists = pgTable(
  'price_lists',
  {
    version: integer().primaryKey(),
    /** The org that pays by this list; null: the platform default every other org falls back to. */
    orgId: uuid().references(() => orgs.id),
    body: codecJsonb().notNull(),
    createdBy: text().notNull(),
    createdAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
  },
  (table) => [index('price_lists_org_version_idx').on(table.orgId, table.version)],
);

/**
 * One row per admitted request, written in the transaction that places the hold: if the gateway
 * dies mid-request, reconciliation finds the row and closes the hold. Immutable: whether it
 * completed is the usage row (or the hold's void), never an update here.
 */
export const gatewayRequests = pgTable(
  'gateway_requests',
  {
    requestId: text().primaryKey(),
    keyId: text().notNull(),
    orgId: uuid().notNull(),
    userId: uuid(),
    teamId: uuid(),
    model: text().notNull(),
    tier: text().notNull(),
    currency: text().notNull(),
    estimate: amount().notNull(),
    feeCurrency: text(),
    feeEstimate: amount(),
    priceListVersion: integer().notNull(),
    /** The team's settlement-policy version at admission; settlement applies this one. */
    policyVersion: integer(),
    /** The team's scoring-configuration version at admission; settlement scores with this one. */
    scoringConfigVersion: integer(),
    system: boolean().notNull().default(false),
    createdAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
  },
  (table) => [index('gateway_requests_created_idx').on(table.createdAt)],
);

/** What a completed request consumed and was charged: one row per request id, final. */
export const usageRecords = pgTable(
  'usage_records',
  {
    requestId: text().primaryKey(),
    orgId: uuid().notNull(),
    userId: uuid(),
    teamId: uuid(),
    keyId: text().notNull(),
    model: text().notNull(),
    cluster: text().notNull(),
    replica: text().notNull(),
    tier: text().notNull(),
    promptTokens: integer().notNull(),
    completionTokens: integer().notNull(),
    currency: text().notNull(),
    cost: amount().notNull(),
    feeCurrency: text(),
    fee: amount(),
    priceListVersion: integer().notNull(),
    latencyMs: integer().notNull(),
    ttftMs: integer(),
    /** Total emissions, operational + embodied (location-based): what caps count. */
    co2eMicrograms: amount().notNull(),
    /** Energy x PUE x the cluster's location-based grid intensity. */
    operationalCo2eMicrograms: amount()
      .notNull()
      .default(sql`0`),
    /** The request's share of the hardware's manufacturing emissions. */
    embodiedCo2eMicrograms: amount()
      .notNull()
      .default(sql`0`),
    /** Operational emissions at the cluster's market-based factor, when it has one (GHG Protocol Scope 2). */
    marketCo2eMicrograms: amount(),
    /** Which methodology computed the carbon columns (e.g. `ecologits-0.11.3`). */
    carbonMethodology: text().notNull().default('ecologits-0.11.3-operational-only'),
    /** Set when the model had no profile: metered as dense at the price list's weight. */
    carbonAssumed: boolean().notNull().default(false),
    energyMicroWh: amount().notNull(),
    /** The OpenAI `user` field, as the client sent it. */
    endUser: text(),
    /** `x-tokenwise-*` headers (repository, experiment, ...) that scoring plugins read. */
    tags: codecJsonb(),
    /** `x-tokenwise-session`, validated: the coding session whose commits may carry `Tokenwise-Session`. */
    sessionId: text(),
    /** `x-tokenwise-experiment` `<experimentKey>:<variantKey>`, validated: the A/B variant the output served. */
    experimentKey: text(),
    variantKey: text(),
    /** Usage of system accounts (judge calls): never settled, so scoring cannot loop on itself. */
    system: boolean().notNull(),
    /** completed, or client_aborted (charged for what was generated). */
    outcome: text().notNull(),
    createdAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
  },
  (table) => [
    index('usage_records_user_idx').on(table.userId, table.createdAt),
    index('usage_records_team_idx').on(table.teamId, table.createdAt),
    index('usage_records_org_idx').on(table.orgId, table.createdAt),
    // Evidence finds its requests through these, never by scanning Temporal.
    index('usage_records_session_idx')
      .on(table.orgId, table.sessionId)
      .where(sql`${table.sessionId} is not null`),
    index('usage_records_experiment_idx')
      .on(table.orgId, table.experimentKey, table.variantKey, table.createdAt)
      .where(sql`${table.experimentKey} is not null`),
  ],
);

/** Settlement work for the worker's relay; written with the usage row, in its transaction. */
export const outbox = pgTable(
  'outbox',
  {
    id: bigserial({ mode: 'bigint' }).primaryKey(),
    requestId: text().notNull(),
    kind: text().notNull(),
    createdAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
    deliveredAt: timestamp({ withTimezone: true }),
    attempts: integer().notNull().default(0),
  },
  (table) => [
    uniqueIndex('outbox_request_kind_key').on(table.requestId, table.kind),
    index('outbox_pending_idx')
      .on(table.id)
      .where(sql`${table.deliveredAt} is null`),
  ],
);

/** Prompt and completion by request id, for scoring plugins: size-capped, with a retention deadline. */
export const requestPayloads = pgTable('request_payloads', {
  requestId: text().primaryKey(),
  prompt: codecJsonb().notNull(),
  completion: text().notNull(),
  truncated: boolean().notNull(),
  expiresAt: timestamp({ withTimezone: true }).notNull(),
  createdAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
});
