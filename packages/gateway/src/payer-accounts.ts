import type { Db } from '@tokenwise/db';
import { createAccountLookup } from '@tokenwise/ledger';
import type { Principal } from './ports';

export interface PayerAccounts {
  /** The wallet that pays for a principal's requests in `currency`. */
  walletOf(principal: Principal, currency: string): Promise<string>;
  consumptionOf(currency: string): Promise<string>;
}

/** Account ids never change once created: looked up once per process (bounded). */
export function createPayerAccounts(db: Db): PayerAccounts {
  const account = createAccountLookup(db);
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
