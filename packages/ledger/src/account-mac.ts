import { canonicalJson } from '@tokenwise/core';
import { createHmac } from 'node:crypto';
import type { Account } from './types';

/** Domain separation: an account MAC can never be mistaken for a row, batch or checkpoint MAC. */
const accountMacLabel = 'tokenwise.ledger.account.v1';

/**
 * HMAC of what an account is: its id (so a MAC cannot move to another row), org, owner, currency,
 * purpose and flags. A superuser who re-points a wallet to another owner, or clears
 * `debitsMustNotExceedCredits` to let it go negative, cannot recompute it without the ledger key.
 * The totals are not covered: they change with every batch and verify checks them against the
 * journal instead.
 */
export function accountMac(key: Buffer, account: Account): string {
  const canonical = canonicalJson([
    accountMacLabel,
    account.id,
    account.orgId,
    account.ownerType,
    account.ownerId,
    account.currency,
    account.purpose,
    account.debitsMustNotExceedCredits,
    account.balanceDerived,
  ]);
  return createHmac('sha256', key).update(canonical).digest('hex');
}
