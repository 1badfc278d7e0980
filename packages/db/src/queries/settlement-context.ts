import { transferIdPrefix } from '@tokenwise/core';
import { and, eq, sql } from 'drizzle-orm';
import type { Db } from '../client';
import {
  gatewayRequests,
  orgs,
  settlementBounds,
  settlementPolicies,
  settlements,
  usageRecords,
} from '../schema/index';

/** What deciding whether to settle a request needs, read in one round trip. */
export interface SettlementGate {
  system: boolean;
  teamId: string | null;
  /** A settlement row exists. */
  settled: boolean;
  /** The request is an LLM call of a plugin dry run (its key was minted for one). */
  dryRunCall: boolean;
  /** The charge transfer of the request is in the ledger. */
  charged: boolean;
  /** The team's scoring plugins as pinned at admission (stored JSON), or null. */
  plugins: unknown;
}

/**
 * One round trip: whether the request's usage is system usage, settled, a dry run's call, charged,
 * and the team's scoring config as pinned when the request was admitted; undefined without usage.
 */
export async function findSettlementGate(db: Db, params: { requestId: string }): Promise<SettlementGate | undefined> {
  const [usage] = await db
    .select({
      system: usageRecords.system,
      teamId: usageRecords.teamId,
      // Written out qualified: drizzle leaves column names unqualified inside a select's sql, where
      // they would bind to the subquery's own table.
      settled: sql<boolean>`exists (select 1 from settlements s where s.request_id = usage_records.request_id)`,
      // A dry run's judge call quotes the request it judged: scoring it would show that request's
      // prompt to whoever may read the dry-running lead's usage.
      dryRunCall: sql<boolean>`exists (select 1 from api_keys k where k.id = usage_records.key_id and k.minted_for = 'plugin_dry_run')`,
      charged: sql<boolean>`exists (select 1 from ledger_transfers t where t.id = ${transferIdPrefix.charge} || usage_records.request_id || '-' || usage_records.currency)`,
      // The version pinned at admission; the newest only for requests admitted before versions were pinned.
      plugins: sql<unknown>`(select c.plugins from scoring_configs c where c.team_id = usage_records.team_id
            and c.version = coalesce((select g.scoring_config_version from gateway_requests g where g.request_id = usage_records.request_id),
                                     (select max(n.version) from scoring_configs n where n.team_id = usage_records.team_id)))`,
    })
    .from(usageRecords)
    .where(eq(usageRecords.requestId, params.requestId))
    .limit(1);
  return usage;
}

/**
 * One round trip: the request's usage row, its settlement if recorded (a retry after the commit
 * returns it), the policy version pinned at admission, the org's bounds and its time zone;
 * undefined without usage.
 */
export async function findSettlementInputs(db: Db, params: { requestId: string }) {
  const [found] = await db
    .select({
      usage: usageRecords,
      recorded: settlements,
      policyVersion: settlementPolicies.version,
      policyBody: settlementPolicies.body,
      boundsBody: settlementBounds.body,
      timeZone: orgs.timeZone,
    })
    .from(usageRecords)
    .leftJoin(settlements, eq(settlements.requestId, usageRecords.requestId))
    .leftJoin(gatewayRequests, eq(gatewayRequests.requestId, usageRecords.requestId))
    .leftJoin(
      settlementPolicies,
      and(
        eq(settlementPolicies.teamId, usageRecords.teamId),
        eq(settlementPolicies.version, gatewayRequests.policyVersion),
      ),
    )
    .leftJoin(settlementBounds, eq(settlementBounds.orgId, usageRecords.orgId))
    .leftJoin(orgs, eq(orgs.id, usageRecords.orgId))
    .where(eq(usageRecords.requestId, params.requestId))
    .limit(1);
  return found;
}
