import type { Db } from '@tokenwise/db';
import { createApiKey } from './api-keys';
import { runtimeKeyRenewSeconds, runtimeKeysMax, runtimeKeyTtlSeconds } from './limits';

/** Which system owner's keys bill their org's judge wallet. */
export const judgeSystemOwner = 'judge';

/** Who pays for a call the server makes itself: an org's judge wallet, or one user's own wallet. */
export type RuntimeKeyPayer =
  | { readonly kind: 'judge'; readonly orgId: string }
  | { readonly kind: 'user'; readonly orgId: string; readonly userId: string };

export interface RuntimeKeys {
  /** An inference key (tw_...) that bills `payer`, minted on first use and renewed before it expires. */
  keyFor(payer: RuntimeKeyPayer): Promise<string>;
  /** Drops a key the gateway refused (revoked by someone): the next call mints a new one. */
  forget(payer: RuntimeKeyPayer): void;
}

interface Minted {
  secret: Promise<string>;
  renewAtMs: number;
}

/**
 * Keys the server mints for its own gateway calls: a judge system key per org (so each org's judging
 * is charged to that org's judge wallet) and a user key per lead dry-running a plugin (charged to
 * that lead). Secrets live only in this process's memory; each key expires after
 * `runtimeKeyTtlSeconds`, so a process that dies leaves nothing usable behind.
 */
export function createRuntimeKeys(deps: { db: Db; pepper: Buffer; clock?: () => Date; actor?: string }): RuntimeKeys {
  const clock = deps.clock ?? (() => new Date());
  const minted = new Map<string, Minted>();
  const idOf = (payer: RuntimeKeyPayer) =>
    payer.kind === 'judge' ? `judge:${payer.orgId}` : `user:${payer.orgId}:${payer.userId}`;
  const mint = async (payer: RuntimeKeyPayer, expiresAt: Date): Promise<string> => {
    const owner =
      payer.kind === 'judge'
        ? {
            userId: null,
            systemOwner: judgeSystemOwner,
            name: 'llm judge (minted by the settlement runtime)',
            mintedFor: 'judge' as const,
          }
        : {
            userId: payer.userId,
            systemOwner: null,
            name: 'plugin dry runs (minted by the API)',
            mintedFor: 'plugin_dry_run' as const,
          };
    const { secret } = await createApiKey(deps.db, {
      pepper: deps.pepper,
      orgId: payer.orgId,
      ...owner,
      scopes: ['inference'],
      expiresAt,
      actor: deps.actor ?? 'system:runtime-keys',
      clock,
    });
    return secret;
  };
  return {
    keyFor(payer) {
      const id = idOf(payer);
      const nowMs = clock().getTime();
      const hit = minted.get(id);
      if (hit !== undefined && hit.renewAtMs > nowMs) return hit.secret;
      if (minted.size >= runtimeKeysMax) minted.clear();
      const expiresAt = new Date(nowMs + runtimeKeyTtlSeconds * 1000);
      const secret = mint(payer, expiresAt);
      secret.catch(() => minted.delete(id));
      minted.set(id, { secret, renewAtMs: nowMs + (runtimeKeyTtlSeconds - runtimeKeyRenewSeconds) * 1000 });
      return secret;
    },
    forget(payer) {
      minted.delete(idOf(payer));
    },
  };
}
