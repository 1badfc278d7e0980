import { transferIdPrefix } from '@tokenwise/core';
import { sql } from 'drizzle-orm';
import type { Db } from '../client';
import { executeRows } from '../execute-rows';

/** Counts that show how far admissions, usage and settlements drifted apart. */
export interface ReconcileDriftCounts {
  admissions: number;
  usageRows: number;
  /** Admitted, no usage row, a hold still open. */
  openAdmissions: number;
  /** Not system usage, and no settlement yet. */
  unsettled: number;
}

/**
 * Usage handed to Temporal (its settle outbox row delivered) and created before `createdBefore`
 * that still has no settlement, oldest first, at most `limit` request ids.
 */
export async function unsettledDeliveredRequestIds(
  db: Db,
  params: { createdBefore: Date; limit: number },
): Promise<string[]> {
  const rows = await executeRows<{ request_id: string }>(
    db,
    sql`select u.request_id from usage_records u
          join outbox o on o.request_id = u.request_id and o.kind = 'settle' and o.delivered_at is not null
          left join settlements s on s.request_id = u.request_id
          where not u.system and s.request_id is null and u.created_at < ${params.createdBefore.toISOString()}::timestamptz
          order by u.created_at limit ${params.limit}`,
  );
  return rows.map((row) => row.request_id);
}

/** The drift counts, in one statement over admissions, usage, open holds and settlements. */
export async function reconcileDriftCounts(db: Db): Promise<ReconcileDriftCounts> {
  const [counts] = await executeRows<{
    admissions: number;
    usage_rows: number;
    open_admissions: number;
    unsettled: number;
  }>(
    db,
    sql`select
          (select count(*)::int from gateway_requests) as admissions,
          (select count(*)::int from usage_records) as usage_rows,
          (select count(*)::int from gateway_requests g where not exists (select 1 from usage_records u where u.request_id = g.request_id)
             and exists (select 1 from ledger_transfers t where t.type = 'pending' and t.id like ${transferIdPrefix.hold} || g.request_id || '-%'
               and not exists (select 1 from ledger_transfers r where r.pending_id = t.id))) as open_admissions,
          (select count(*)::int from usage_records u where not u.system and not exists (select 1 from settlements s where s.request_id = u.request_id)) as unsettled`,
  );
  return {
    admissions: counts?.admissions ?? 0,
    usageRows: counts?.usage_rows ?? 0,
    openAdmissions: counts?.open_admissions ?? 0,
    unsettled: counts?.unsettled ?? 0,
  };
}
