import { sql } from 'drizzle-orm';
import { check, doublePrecision, integer, pgTable, text, timestamp } from 'drizzle-orm/pg-core';
import { codecJsonb } from './columns';

/**
 * The inference clusters the platform routes to, platform-wide (not per org). Whoever starts a
 * gateway registers its configured clusters here, so the API (maybe another process) can list them,
 * and gateways pick up changes made through the API (carbon coefficients, disabling) within seconds.
 */
export const clusters = pgTable(
  'clusters',
  {
    name: text().primaryKey(),
    /** `config`: registered by a gateway from its startup configuration, which owns its definition; `api`: added by an operator, served by every gateway until removed. */
    source: text().$type<'config' | 'api'>().notNull().default('config'),
    /** Models, replicas, concurrency and queue limits, priority scheduling: the gateway's ClusterConfig without the carbon fields. */
    definition: codecJsonb().notNull(),
    region: text().notNull(),
    gridIntensityGCo2ePerKwh: doublePrecision().notNull(),
    /** Where the location-based intensity comes from (e.g. "Ember 2024, DE annual average"). */
    gridIntensitySource: text(),
    /** The market-based factor (contractual instruments: PPAs, certificates), gCO2e/kWh; null: none recorded. */
    marketGridIntensityGCo2ePerKwh: doublePrecision(),
    /**
     * `owned`: the company runs it (electricity Scope 2, hardware Scope 3 category 2); `rented`:
     * capacity bought from a provider (all of it Scope 3 category 1).
     */
    ownership: text().$type<'owned' | 'rented'>().notNull().default('owned'),
    /** null: the carbon model's default PUE. */
    pue: doublePrecision(),
    /** Who set the carbon coefficients through the API; null while they come from the startup config, which then may overwrite them. */
    carbonSetBy: text(),
    carbonSetAt: timestamp({ withTimezone: true }),
    /** Set: gateways route no new request to the cluster (its models answer 404 until it is enabled again). */
    disabledAt: timestamp({ withTimezone: true }),
    /** Replica ids that get no new request (maintenance); health checks go on, so re-enabling knows their state. */
    disabledReplicas: text()
      .array()
      .notNull()
      .default(sql`'{}'::text[]`),
    /** Incremented by every change of definition, coefficients or state, so gateways and readers can tell what changed. */
    version: integer().notNull().default(1),
    registeredBy: text().notNull(),
    updatedBy: text().notNull(),
    createdAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
    /** The replicas' health as one gateway last saw it: `{ [replicaId]: { healthy, circuit } }`. */
    health: codecJsonb(),
    healthReportedAt: timestamp({ withTimezone: true }),
  },
  (table) => [
    check(
      'clusters_grid_intensity_range',
      sql`${table.gridIntensityGCo2ePerKwh} >= 0 and ${table.gridIntensityGCo2ePerKwh} <= 2000`,
    ),
    check('clusters_pue_range', sql`${table.pue} is null or (${table.pue} >= 1 and ${table.pue} <= 3)`),
    check('clusters_region_present', sql`length(${table.region}) between 1 and 64`),
    check('clusters_version_positive', sql`${table.version} >= 1`),
    check('clusters_source', sql`${table.source} in ('config', 'api')`),
    check('clusters_ownership', sql`${table.ownership} in ('owned', 'rented')`),
    check(
      'clusters_market_intensity_range',
      sql`${table.marketGridIntensityGCo2ePerKwh} is null or (${table.marketGridIntensityGCo2ePerKwh} >= 0 and ${table.marketGridIntensityGCo2ePerKwh} <= 2000)`,
    ),
  ],
);
