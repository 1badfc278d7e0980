import { type PriorityTier } from '@tokenwise/core';

/** Tiers from first served to last; the index is vLLM's `priority` (lower is served first). */
export const tiersByUrgency = ['urgent', 'high', 'normal', 'low'] as const satisfies readonly PriorityTier[];

const vllmPriorityByTier: Readonly<Record<PriorityTier, number>> = { urgent: 0, high: 1, normal: 2, low: 3 };

/** Whether a request prefers the cleanest cluster serving its model: low and normal tiers, when its org has carbon-aware routing on. */
export function prefersCleanCluster(tier: PriorityTier, orgCarbonAwareRouting: boolean): boolean {
  return orgCarbonAwareRouting && (tier === 'low' || tier === 'normal');
}

/** vLLM's integer `priority` for a tier (lower = served first): urgent 0, high 1, normal 2, low 3. */
export function vllmPriorityOf(tier: PriorityTier): number {
  return vllmPriorityByTier[tier];
}
