import { executeRows, type Db } from '@tokenwise/db';
import { sql } from 'drizzle-orm';

/** Per-account totals summed from the journal: `journal(account_id, dp, dpo, cp, cpo)`. */
const journalCte = sql.raw(`with entries as (
        select t.debit_account_id as account_id,
          case when t.type = 'pending' and r.seq is null then t.amount else 0 end as dp,
          case when t.type in ('transfer', 'post') then t.amount else 0 end as dpo,
          0::bigint as cp, 0::bigint as cpo
        from ledger_transfers t left join ledger_transfers r on t.type = 'pending' and r.pending_id = t.id
        union all
        select t.credit_account_id, 0, 0,
          case when t.type = 'pending' and r.seq is null then t.amount else 0 end,
          case when t.type in ('transfer', 'post') then t.amount else 0 end
        from ledger_transfers t left join ledger_transfers r on t.type = 'pending' and r.pending_id = t.id
      ), journal as (
        select account_id, sum(dp) as dp, sum(dpo) as dpo, sum(cp) as cp, sum(cpo) as cpo from entries group by account_id
      )`);

interface DriftRow extends Record<string, unknown> {
  id: string;
  owner: string;
  stored: string;
  journal: string;
}

/** Materialized accounts whose stored totals differ from what the journal sums to. */
export async function accountDrift(db: Db): Promise<DriftRow[]> {
  return executeRows<DriftRow>(
    db,
    sql`${journalCte}
      select a.id, a.owner_type || ':' || a.owner_id || '/' || a.currency || '/' || a.purpose as owner,
        concat_ws(' ', a.debits_pending, a.debits_posted, a.credits_pending, a.credits_posted) as stored,
        concat_ws(' ', coalesce(j.dp, 0), coalesce(j.dpo, 0), coalesce(j.cp, 0), coalesce(j.cpo, 0)) as journal
      from ledger_accounts a left join journal j on j.account_id = a.id
      where not a.balance_derived and (a.debits_pending <> coalesce(j.dp, 0) or a.debits_posted <> coalesce(j.dpo, 0)
        or a.credits_pending <> coalesce(j.cp, 0) or a.credits_posted <> coalesce(j.cpo, 0))
      order by a.id limit 100`,
  );
}

/**
 * Every invariant the ledger promises, checked from the database alone. Returns one sentence per
 * violation; an empty list means the ledger is sound.
 */
export async function checkInvariants(db: Db): Promise<string[]> {
  const violations: string[] = [];
  for (const row of await accountDrift(db)) {
    violations.push(
      `account ${row.id} (${row.owner}) stores totals [${row.stored}] but its journal sums to [${row.journal}]`,
    );
  }
  const wallets = await executeRows<{ id: string; detail: string }>(
    db,
    sql`select id, concat_ws(' ', debits_pending, debits_posted, credits_posted) as detail from ledger_accounts
      where debits_must_not_exceed_credits and debits_pending + debits_posted > credits_posted`,
  );
  for (const row of wallets)
    violations.push(`wallet ${row.id} is below zero (debits pending, posted, credits posted: ${row.detail})`);
  const balance = await executeRows<{
    currency: string;
    debits: string;
    credits: string;
    pending_debits: string;
    pending_credits: string;
  }>(
    db,
    sql`${journalCte}, totals as (
        select currency, debits_posted as dpo, credits_posted as cpo, debits_pending as dp, credits_pending as cp from ledger_accounts where not balance_derived
        union all
        select a.currency, coalesce(j.dpo, 0), coalesce(j.cpo, 0), coalesce(j.dp, 0), coalesce(j.cp, 0)
        from ledger_accounts a left join journal j on j.account_id = a.id where a.balance_derived
      )
      select currency, sum(dpo)::text as debits, sum(cpo)::text as credits, sum(dp)::text as pending_debits, sum(cp)::text as pending_credits
      from totals group by currency`,
  );
  const perCurrency = await executeRows<{ currency: string; mismatched: string }>(
    db,
    sql`select t.currency, count(*)::text as mismatched from ledger_transfers t
      join ledger_accounts d on d.id = t.debit_account_id join ledger_accounts c on c.id = t.credit_account_id
      where d.currency <> t.currency or c.currency <> t.currency group by t.currency`,
  );
  for (const row of perCurrency)
    violations.push(`${row.mismatched} ${row.currency} transfers touch an account of another currency`);
  for (const row of balance) {
    if (row.debits !== row.credits || row.pending_debits !== row.pending_credits) {
      violations.push(
        `${row.currency}: account totals do not balance (debits ${row.debits} vs credits ${row.credits}, pending ${row.pending_debits} vs ${row.pending_credits})`,
      );
    }
  }
  const resolutions = await executeRows<{ pending_id: string; problem: string }>(
    db,
    sql`select r.pending_id, case
          when p.seq is null then 'resolves a transfer that does not exist'
          when p.type <> 'pending' then 'resolves a transfer that is not pending'
          when r.type = 'post' and r.amount > p.amount then 'posts more than was pending'
          when r.type in ('void', 'expire') and r.amount <> p.amount then 'releases a different amount than was pending'
          else 'resolves it more than once' end as problem
      from ledger_transfers r left join ledger_transfers p on p.id = r.pending_id
      where r.pending_id is not null and (p.seq is null or p.type <> 'pending'
        or (r.type = 'post' and r.amount > p.amount) or (r.type in ('void', 'expire') and r.amount <> p.amount)
        or (select count(*) from ledger_transfers x where x.pending_id = r.pending_id) > 1)
      limit 100`,
  );
  for (const row of resolutions) violations.push(`pending transfer ${row.pending_id}: ${row.problem}`);
  // Tenants are sealed: an org's issuance (grants, allowances, judge budgets) only ever reaches that org's accounts.
  const crossOrg = await executeRows<{ id: string; issuer: string; credited: string }>(
    db,
    sql`select t.id, d.org_id::text as issuer, coalesce(c.org_id::text, 'no org') as credited from ledger_transfers t
      join ledger_accounts d on d.id = t.debit_account_id join ledger_accounts c on c.id = t.credit_account_id
      where d.purpose = 'issuance' and d.owner_type = 'org' and c.org_id is distinct from d.org_id limit 100`,
  );
  for (const row of crossOrg)
    violations.push(
      `transfer ${row.id} moves org ${row.issuer}'s issuance into an account of ${row.credited === 'no org' ? 'no org' : `org ${row.credited}`}`,
    );
  return violations;
}
