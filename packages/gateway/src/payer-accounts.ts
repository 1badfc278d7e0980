import { createAccountLookup, judgeWalletKey, type AccountKey, type Ledger } from '@tokenwise/ledger';
import { judgeSystemOwner } from '@tokenwise/control';
import type { Principal } from './ports';

export interface PayerAccounts {
  /** The wallet that pays for a principal's requests in `currency`. */
  walletOf(principal: Principal, currency: string): Promise<string>;
  consumptionOf(currency: string): Promise<string>;
}

/** Account ids never change once created: looked up (or opened, sealed by the ledger) once per process (bounded). */
export function createPayerAccounts(ledger: Pick<Ledger, 'ensureAccount'>): PayerAccounts {
  const account = createAccountLookup((key) => ledger.ensureAccount(key));
  return {
    async walletOf(principal, currency) {
      return (await account(payerKey(principal, currency))).id;
    },
    async consumptionOf(currency) {
      return (await account({ ownerType: 'system', ownerId: 'consumption', currency, purpose: 'consumption' })).id;
    },
  };
}

/**
 * The account a principal's requests are charged to. An employee pays from their wallet. A judge
 * system key of org X pays from X's judge wallet: only such a key, which the settlement runtime
 * mints for X (or an operator creates with the CLI) and no API call can create, can bill it, so no
 * header or client can move judge spend from one org to another or onto the judge wallet. Other
 * system keys pay from their platform-wide system account, as before.
 */
function payerKey(principal: Principal, currency: string): AccountKey {
  if (principal.userId !== null)
    return { ownerType: 'user', ownerId: principal.userId, currency, purpose: 'wallet', orgId: principal.orgId };
  if (principal.systemOwner === judgeSystemOwner) return judgeWalletKey({ orgId: principal.orgId, currency });
  return {
    ownerType: 'system',
    ownerId: principal.systemOwner ?? 'unknown',
    currency,
    purpose: 'wallet',
    orgId: principal.orgId,
  };
}
