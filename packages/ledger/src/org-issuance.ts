import { monthlyPeriod, NotFoundError, type Amount, type GrantBounds } from '@tokenwise/core';
import { executeRows, getGrantBounds, type Db } from '@tokenwise/db';
import { ledgerAccounts, orgs } from '@tokenwise/db/schema';
import { eq, sql } from 'drizzle-orm';
import { createAccountLookup, orgIssuanceKey, type AccountLookup } from './accounts';
import { accountCacheEntriesMax } from './limits';

/**
 * What an issuance account had issued before the calendar month of `at` began in `timeZone`: the sum
 * of its posted debits created before then. The journal is append-only, so this never changes.
 */
export async function issuedBeforeMonth(
  db: Db,
  params: { issuanceAccountId: string; at: Date; timeZone: string },
): Promise<Amount> {
  const [row] = await executeRows<{ issued: string }>(
    db,
    sql`select coalesce(sum(amount), 0)::text as issued from ledger_transfers
      where debit_account_id = ${params.issuanceAccountId} and type in ('transfer', 'post')
        and created_at < (date_trunc('month', ${params.at.toISOString()}::timestamptz at time zone ${params.timeZone}) at time zone ${params.timeZone})`,
  );
  return BigInt(row?.issued ?? '0');
}

export interface IssuanceStatus {
  orgSlug: string;
  issuanceAccountId: string;
  bounds: GrantBounds;
  /** Whether the operator configured the bounds (else the platform defaults apply). */
  configured: boolean;
  /** Grants, allowances and judge budgets issued this calendar month in the org's time zone. */
  issuedThisMonth: Amount;
  /** What the org may still issue this month: never below zero. */
  left: Amount;
  period: string;
  timeZone: string;
}

export interface IssuanceMeter {
  /** The org's issuance in `currency` in the month of `at` (its time zone) against its grant bounds. */
  status(params: { orgId: string; currency: string; at: Date }): Promise<IssuanceStatus>;
}

/**
 * Reads issuance as the issuance account's posted debits minus what it had issued before the month
 * began (summed once per account and month, then kept): a grant costs a few key lookups, not a scan
 * of the month's grants. `open` opens the org's issuance account if it is new (`ledger.ensureAccount`,
 * which seals it).
 */
export function createIssuanceMeter(db: Db, open: AccountLookup): IssuanceMeter {
  const account = createAccountLookup(open);
  const before = new Map<string, Promise<Amount>>();
  return {
    async status(params) {
      const [org] = await db
        .select({ slug: orgs.slug, timeZone: orgs.timeZone })
        .from(orgs)
        .where(eq(orgs.id, params.orgId))
        .limit(1);
      if (org === undefined) throw new NotFoundError(`No org ${params.orgId}.`);
      const source = await account(orgIssuanceKey(params));
      const period = monthlyPeriod(params.at, org.timeZone);
      const key = `${source.id}:${period}:${org.timeZone}`;
      let issuedBefore = before.get(key);
      if (issuedBefore === undefined) {
        if (before.size >= accountCacheEntriesMax) before.clear();
        issuedBefore = issuedBeforeMonth(db, { issuanceAccountId: source.id, at: params.at, timeZone: org.timeZone });
        issuedBefore.catch(() => before.delete(key));
        before.set(key, issuedBefore);
      }
      const [row] = await db
        .select({ debitsPosted: ledgerAccounts.debitsPosted })
        .from(ledgerAccounts)
        .where(eq(ledgerAccounts.id, source.id))
        .limit(1);
      const issued = (row?.debitsPosted ?? 0n) - (await issuedBefore);
      const { configured, ...bounds } = await getGrantBounds(db, { orgId: params.orgId, currency: params.currency });
      const left = bounds.monthlyIssuanceMax > issued ? bounds.monthlyIssuanceMax - issued : 0n;
      return {
        orgSlug: org.slug,
        issuanceAccountId: source.id,
        bounds,
        configured,
        issuedThisMonth: issued,
        left,
        period,
        timeZone: org.timeZone,
      };
    },
  };
}
