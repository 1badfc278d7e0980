import type { Db } from '@tokenwise/db';
import { consumptionAccount, ensureAccount } from '@tokenwise/ledger';
import type { Principal } from './ports';

/** Account ids never change once created: cached per process, bounded. */
const cacheEntriesMax = 100_000;

export interface PayerAccounts {
  /** The wallet that pays for a principal's requests in `currency`. */
  walletOf(principal: Principal, currency: string): Promise<string>;
  consumptionOf(currency: string): Promise<string>;
}

export function createPayerAccounts(db: Db): PayerAccounts {
  const cache = new Map<string, Promise<string>>();
  const cached = (key: string, open: () => Promise<string>): Promise<string> => {
    let hit = cache.get(key);
    if (hit === undefined) {
      if (cache.size >= cacheEntriesMax) cache.clear();
      hit = open();
      hit.catch(() => cache.delete(key));
      cache.set(key, hit);
    }
    return hit;
  };
  return {
    walletOf(principal, currency) {
      const owner = principal.userId !== null ? { ownerType: 'user' as const, ownerId: principal.userId } : { ownerType: 'system' as const, ownerId: principal.systemOwner ?? 'unknown' };
      return cached(`${owner.ownerType}:${owner.ownerId}:${currency}`, async () => (await ensureAccount(db, { ...owner, currency, purpose: 'wallet', orgId: principal.orgId })).id);
    },
    consumptionOf(currency) {
      return cached(`consumption:${currency}`, async () => (await consumptionAccount(db, currency)).id);
    },
  };
}
