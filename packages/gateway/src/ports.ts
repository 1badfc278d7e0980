import type { ClusterOwnership, ModelProfile, Principal } from '@tokenwise/control';
import type { PriorityTier } from '@tokenwise/core';
import type { CancelSignal } from './abort';

/**
 * What the request path needs from its collaborators. Control's key store and the router
 * (routing/) implement these; tests may pass small fakes of the same shape.
 */
export type { Principal };

export interface Authenticator {
  authenticate(authorization: string | undefined): Promise<Principal>;
}

export interface RequestLimiter {
  checkRequest(principal: Principal, estimatedTokens: number): void;
  recordTokens(principal: Principal, tokens: number): void;
}

export interface ClusterInfo {
  name: string;
  region: string;
  /** Location-based: what caps count. */
  gridIntensityGCo2ePerKwh: number;
  pue?: number;
  /** Market-based factor; usage rows get a market-based operational figure when set. */
  marketGridIntensityGCo2ePerKwh?: number;
  ownership?: ClusterOwnership;
  /** Carbon profiles of the models it serves, as its configuration declares them. */
  modelProfiles?: Record<string, ModelProfile>;
}

export interface UpstreamLease {
  replica: { id: string; url: string; cluster: string };
  cluster: ClusterInfo;
  vllmPriority: number | undefined;
  release(outcome: { ok: boolean }): void;
}

export interface UpstreamRouter {
  clusterFor(model: string): ClusterInfo | undefined;
  /** Every cluster a request for `model` may be routed or failed over to (the carbon hold covers the dirtiest). */
  clustersFor(model: string): ClusterInfo[];
  models(): string[];
  acquire(
    model: string,
    tier: PriorityTier,
    options?: {
      signal?: CancelSignal;
      exclude?: ReadonlySet<string>;
      preferClean?: boolean;
      within?: ReadonlySet<string>;
    },
  ): Promise<UpstreamLease>;
}
