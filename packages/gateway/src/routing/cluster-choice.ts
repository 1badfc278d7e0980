import { ecoLogitsDefaults } from '@tokenwise/core';
import { type RouteStanding } from './cluster-route';
import { type ClusterConfig } from './types';

/** A cluster serving the model, with its standing for the request being routed. */
export interface RouteCandidate<T> {
  route: T;
  config: ClusterConfig;
  standing: RouteStanding;
}

/**
 * Operational gCO2e per kWh of IT energy: the location-based grid intensity times the cluster's PUE
 * (the default PUE when it has none), which is what the request's operational emissions scale with.
 * With equal PUEs this orders clusters exactly as their grid intensities do.
 */
export function carbonPerItKwh(cluster: Pick<ClusterConfig, 'gridIntensityGCo2ePerKwh' | 'pue'>): number {
  return cluster.gridIntensityGCo2ePerKwh * (cluster.pue ?? ecoLogitsDefaults.pue);
}

type Key<T> = (candidate: RouteCandidate<T>) => number;

function best<T>(candidates: readonly RouteCandidate<T>[], keys: readonly Key<T>[]): RouteCandidate<T> | undefined {
  let chosen: RouteCandidate<T> | undefined;
  for (const candidate of candidates) {
    if (chosen === undefined) {
      chosen = candidate;
      continue;
    }
    for (const key of keys) {
      const difference = key(candidate) - key(chosen);
      if (difference === 0) continue;
      if (difference < 0) chosen = candidate;
      break;
    }
  }
  return chosen;
}

const cleanest: Key<unknown> = (candidate) => carbonPerItKwh(candidate.config);
const leastLoaded: Key<unknown> = (candidate) => candidate.standing.loadPerSlot;
const soonestServed: Key<unknown> = (candidate) => candidate.standing.waitPerSlot;

/**
 * The cluster one request goes to (or waits at), among the enabled clusters serving its model; ties
 * keep the configuration's order. Pure: the router passes each cluster's standing at this instant.
 *
 * - A cluster that can take the request at once wins over any that cannot: `preferClean` (low and
 *   normal tiers of an org with carbon-aware routing on) takes the cleanest of those, ties by load;
 *   otherwise (high, urgent, or the org's setting off) the least loaded per slot, ties by carbon.
 * - When none can, the request waits in one cluster's priority queue (tier order and FIFO within a
 *   tier are kept per cluster, as with one cluster). `preferClean` waits at the cleanest servable
 *   cluster: that work declared it can wait, and waiting for clean capacity rather than taking the
 *   dirty cluster's next free slot is the point of carbon-aware routing; the wait is still bounded by
 *   that cluster's `queueWaitMsMax`, and new requests keep spilling to any cluster with a free slot.
 *   Otherwise it waits where it is likely served soonest: fewest waiters ahead of its tier per slot.
 * - Clusters whose queue for the model is full, or with no healthy replica, are only chosen when
 *   every cluster is so (the queue then refuses, or the request waits for a replica to recover, as
 *   with one cluster). Clusters whose replicas are all excluded (failed this request) or disabled
 *   are never chosen while another is usable.
 */
export function chooseRoute<T>(candidates: readonly RouteCandidate<T>[], preferClean: boolean): T | undefined {
  const usable = candidates.filter((candidate) => candidate.standing.usable);
  if (usable.length === 0) return candidates[0]?.route;
  const now = usable.filter((candidate) => candidate.standing.grantableNow);
  if (now.length > 0) return best(now, preferClean ? [cleanest, leastLoaded] : [leastLoaded, cleanest])?.route;
  const open = usable.filter((candidate) => !candidate.standing.queueFull);
  const pool = open.filter((candidate) => candidate.standing.servable);
  const waitAt = pool.length > 0 ? pool : open.length > 0 ? open : usable;
  return best(waitAt, preferClean ? [cleanest, soonestServed] : [soonestServed, leastLoaded, cleanest])?.route;
}
