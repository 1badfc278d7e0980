import type { Principal } from './ports';

/** How long a refusal for lack of tokens keeps a key's requests waiting for their hold. */
const refusalMemoryMs = 30_000;
const keysRememberedMax = 10_000;

/**
 * Whether a request may be sent upstream while its hold is committing. The upstream's first token
 * takes longer than the commit, so overlapping them takes the ledger off the client's latency; the
 * client still sees nothing before the hold is durable, and a refused hold aborts the upstream
 * request at once. A key refused for lack of tokens waits for its holds for a while, so an empty
 * wallet cannot make the model servers start work it will never pay for.
 */
export class EarlyForwarding {
  private readonly refusedUntil = new Map<string, number>();

  constructor(private readonly enabled: boolean) {}

  allowed(principal: Principal, now = Date.now()): boolean {
    if (!this.enabled) return false;
    const until = this.refusedUntil.get(principal.keyId);
    if (until === undefined) return true;
    if (until > now) return false;
    this.refusedUntil.delete(principal.keyId);
    return true;
  }

  refused(principal: Principal, now = Date.now()): void {
    if (this.refusedUntil.size >= keysRememberedMax) this.refusedUntil.clear();
    this.refusedUntil.set(principal.keyId, now + refusalMemoryMs);
  }
}
