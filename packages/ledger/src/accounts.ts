import { ledgerCurrencyByCode, ValidationError, type CarbonScope } from '@tokenwise/core';
import type { Db } from '@tokenwise/db';
import { ledgerAccounts } from '@tokenwise/db/schema';
import { and, eq } from 'drizzle-orm';
import { randomUUID } from 'node:crypto';
import { accountMac } from './account-mac';
import { accountCacheEntriesMax } from './limits';
import type { Account, OwnerType } from './types';

export const accountColumns = {
  id: ledgerAccounts.id,
  orgId: ledgerAccounts.orgId,
  ownerType: ledgerAccounts.ownerType,
  ownerId: ledgerAccounts.ownerId,
  currency: ledgerAccounts.currency,
  purpose: ledgerAccounts.purpose,
  debitsMustNotExceedCredits: ledgerAccounts.debitsMustNotExceedCredits,
  balanceDerived: ledgerAccounts.balanceDerived,
};

/**
 * What an account is for decides its flags: wallets, an org's judge wallet and funded pools may never go below zero;
 * the issuance account is where tokens come from (it goes negative by design); the consumption
 * account receives every charge and is derived, so it never serialises the hot path.
 */
export const accountPurposes = {
  wallet: { debitsMustNotExceedCredits: true, balanceDerived: false },
  judge: { debitsMustNotExceedCredits: true, balanceDerived: false },
  reward_pool: { debitsMustNotExceedCredits: true, balanceDerived: false },
  issuance: { debitsMustNotExceedCredits: false, balanceDerived: false },
  consumption: { debitsMustNotExceedCredits: false, balanceDerived: true },
  /**
   * A user's reward allowance for one month (owner `<userId>:<YYYY-MM>`): funded up to the org's
   * monthly cap, debited by each reward, never below zero, so rewards settled at once cannot
   * together pass the cap. Quota in the reward currency's minor units, not tokens anyone holds.
   */
  reward_cap: { debitsMustNotExceedCredits: true, balanceDerived: false },
  /** Where reward allowances come from and go back to; derived, so it never serialises settlements. */
  reward_cap_source: { debitsMustNotExceedCredits: false, balanceDerived: true },
  /**
   * A user's, team's or org's carbon budget for one period (owner `<scopeId>:<period>`, currency
   * `carbon`): funded from the cap, held by admission for each request's carbon bound, never below
   * zero, so concurrent requests together cannot pass a hard cap.
   */
  carbon_budget: { debitsMustNotExceedCredits: true, balanceDerived: false },
  /** Where an org's carbon budgets are funded from (caps, raises); derived, so funding never serialises. */
  carbon_source: { debitsMustNotExceedCredits: false, balanceDerived: true },
} as const;
export type AccountPurpose = keyof typeof accountPurposes;

export interface AccountKey {
  ownerType: OwnerType;
  ownerId: string;
  currency: string;
  purpose: AccountPurpose;
  orgId?: string | null;
}

/**
 * Opens the account for (owner, currency, purpose), or returns the one that exists. Safe under races.
 * The row is sealed as it is inserted (its id is chosen here so the MAC can cover it), so no
 * account exists, even for a moment, that verify would have to trust unsealed.
 */
export async function ensureAccount(db: Db, key: AccountKey, hmacKey: Buffer): Promise<Account> {
  ledgerCurrencyByCode(key.currency);
  const flags = accountPurposes[key.purpose];
  if (flags === undefined)
    throw new ValidationError(
      `Unknown account purpose "${key.purpose}": use one of ${Object.keys(accountPurposes).join(', ')}.`,
    );
  if (key.ownerId.length === 0 || key.ownerId.length > 100)
    throw new ValidationError('Account owner id must be 1..100 characters.');
  const account: Account = {
    id: randomUUID(),
    ownerType: key.ownerType,
    ownerId: key.ownerId,
    currency: key.currency,
    purpose: key.purpose,
    orgId: key.orgId ?? null,
    ...flags,
  };
  const [created] = await db
    .insert(ledgerAccounts)
    .values({ ...account, accountMac: accountMac(hmacKey, account) })
    .onConflictDoNothing()
    .returning(accountColumns);
  if (created !== undefined) return created;
  const existing = await findAccount(db, key);
  if (existing === undefined)
    throw new Error(`account for ${key.ownerType}:${key.ownerId} vanished after a conflicting insert`);
  return existing;
}

export async function findAccount(db: Db, key: Omit<AccountKey, 'orgId'>): Promise<Account | undefined> {
  const [row] = await db
    .select(accountColumns)
    .from(ledgerAccounts)
    .where(
      and(
        eq(ledgerAccounts.ownerType, key.ownerType),
        eq(ledgerAccounts.ownerId, key.ownerId),
        eq(ledgerAccounts.currency, key.currency),
        eq(ledgerAccounts.purpose, key.purpose),
      ),
    )
    .limit(1);
  return row;
}

export async function findAccountById(db: Db, id: string): Promise<Account | undefined> {
  const [row] = await db.select(accountColumns).from(ledgerAccounts).where(eq(ledgerAccounts.id, id)).limit(1);
  return row;
}

/** The key of the org's own issuance account in `currency` (see `orgIssuanceAccount`). */
export function orgIssuanceKey(params: { orgId: string; currency: string }): AccountKey {
  return {
    ownerType: 'org',
    ownerId: params.orgId,
    orgId: params.orgId,
    currency: params.currency,
    purpose: 'issuance',
  };
}

/**
 * The org's own issuance account in `currency`: every grant, allowance and judge budget of the org is
 * debited from it, so no org's issuance can exhaust or be read through another's.
 */
export function orgIssuanceAccount(
  db: Db,
  params: { orgId: string; currency: string },
  hmacKey: Buffer,
): Promise<Account> {
  return ensureAccount(db, orgIssuanceKey(params), hmacKey);
}

/**
 * The platform-wide issuance account of before per-org issuance. It keeps its history; nothing in
 * production debits it any more. Tests and benches that fund accounts of no org still use it.
 */
export function legacyIssuanceAccount(db: Db, currency: string, hmacKey: Buffer): Promise<Account> {
  return ensureAccount(db, { ownerType: 'system', ownerId: 'issuance', currency, purpose: 'issuance' }, hmacKey);
}

/**
 * The org's judge wallet: the judge's calls scoring the org's requests are charged to it (through
 * the org's own judge system key), funded each month from the org's issuance by its judge budget.
 */
export function judgeWalletKey(params: { orgId: string; currency: string }): AccountKey {
  return { ownerType: 'org', ownerId: params.orgId, orgId: params.orgId, currency: params.currency, purpose: 'judge' };
}

/** The one consumption account per currency: every charge is credited to it. */
export function consumptionAccount(db: Db, currency: string, hmacKey: Buffer): Promise<Account> {
  return ensureAccount(db, { ownerType: 'system', ownerId: 'consumption', currency, purpose: 'consumption' }, hmacKey);
}

/** Opens or finds an account by key (`ledger.ensureAccount`, which seals what it opens). */
export type AccountLookup = (key: AccountKey) => Promise<Account>;

/** Wraps an opener so each account is opened or found once per process: an account never changes once opened. Bounded. */
export function createAccountLookup(open: AccountLookup): AccountLookup {
  const cache = new Map<string, Promise<Account>>();
  return (key) => {
    const id = `${key.ownerType}:${key.ownerId}:${key.currency}:${key.purpose}`;
    let hit = cache.get(id);
    if (hit === undefined) {
      if (cache.size >= accountCacheEntriesMax) cache.clear();
      hit = open(key);
      hit.catch(() => cache.delete(id));
      cache.set(id, hit);
    }
    return hit;
  };
}

/** The carbon budget account of a user, team or org for one period (`2026-12`, `2026-Q4`). */
export function carbonBudgetKey(params: {
  orgId: string;
  scope: CarbonScope;
  scopeId: string;
  period: string;
}): AccountKey {
  return {
    ownerType: params.scope,
    ownerId: `${params.scopeId}:${params.period}`,
    orgId: params.orgId,
    currency: 'carbon',
    purpose: 'carbon_budget',
  };
}

/** The org's carbon source: every cap funding and raise of the org is debited from it. */
export function carbonSourceKey(orgId: string): AccountKey {
  return { ownerType: 'org', ownerId: orgId, orgId, currency: 'carbon', purpose: 'carbon_source' };
}
