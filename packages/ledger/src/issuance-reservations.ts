import { invariant, type Amount } from '@tokenwise/core';

/**
 * Issuance that passed its bound check but is not committed yet, per org and currency, in this
 * process. A grant reserves before it reads what the org issued, so of two grants at once the later
 * always counts the earlier (reserved, committed, or both: the error is on the refusing side only).
 */
export class IssuanceReservations {
  private readonly byKey = new Map<string, Amount>();

  /** Reserves `amount` under `key`; returns what is reserved under it now (this reservation included) and its release. */
  reserve(key: string, amount: Amount): { reservedTotal: Amount; release: () => void } {
    invariant(amount > 0n, 'a reservation is of a positive amount');
    const reservedTotal = (this.byKey.get(key) ?? 0n) + amount;
    this.byKey.set(key, reservedTotal);
    let released = false;
    return {
      reservedTotal,
      release: () => {
        if (released) return;
        released = true;
        const left = (this.byKey.get(key) ?? 0n) - amount;
        invariant(left >= 0n, 'released more issuance than was reserved');
        if (left === 0n) this.byKey.delete(key);
        else this.byKey.set(key, left);
      },
    };
  }
}
