import { createAccountLookup, type Ledger } from '@tokenwise/ledger';
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
      const owner = principal.userId !== null ? { ownerType: 'user' as const, ownerId: principal.userId } : { ownerType: 'system' as const, ownerId: principal.systemOwner ?? 'unknown' };
      return (await account({ ...owner, currency, purpose: 'wallet', orgId: principal.orgId })).id;
    },
    async consumptionOf(currency) {
      return (await account({ ownerType: 'system', ownerId: 'consumption', currency, purpose: 'consumption' })).id;
    },
  };
}
