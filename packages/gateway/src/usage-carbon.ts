import {
  carbonMethodology,
  co2eMicrogramsBound,
  requestEmissions,
  type CarbonClusterProfile,
  type CarbonModelProfile,
} from '@tokenwise/core';
import type { CurrentPriceList } from '@tokenwise/control';
import type { ClusterInfo } from './ports';

/** A model's carbon profile and whether it was assumed (no profile anywhere: dense at the price list's weight). */
export interface ModelCarbon {
  profile: CarbonModelProfile;
  assumed: boolean;
}

/**
 * The profile the carbon model uses for `model` on `cluster`: the cluster's declared profile, else
 * the gateway setting `modelProfiles`, else dense at the price list's weight, flagged assumed (a
 * mixture of experts then reads its total parameters as active, so it is overstated, never under).
 */
export function modelCarbonOf(
  model: string,
  priceList: CurrentPriceList,
  settingsProfiles: Record<string, CarbonModelProfile>,
  cluster?: ClusterInfo,
): ModelCarbon {
  const declared = cluster?.modelProfiles?.[model] ?? settingsProfiles[model];
  if (declared !== undefined) {
    const { totalParamsBillions, activeParamsBillions, tokensPerSecond } = declared;
    return {
      profile: {
        totalParamsBillions,
        activeParamsBillions,
        ...(tokensPerSecond === undefined ? {} : { tokensPerSecond }),
      },
      assumed: false,
    };
  }
  const weight = Number(priceList.list.models[model]?.weightMilliBillions ?? 1000n) / 1000;
  return { profile: { totalParamsBillions: weight, activeParamsBillions: weight }, assumed: true };
}

/** The cluster as the carbon model sees it: location-based intensity, market-based factor, PUE. */
export function carbonClusterOf(cluster: ClusterInfo): CarbonClusterProfile {
  return {
    region: cluster.region,
    gridIntensityGCo2ePerKwh: cluster.gridIntensityGCo2ePerKwh,
    ...(cluster.marketGridIntensityGCo2ePerKwh === undefined
      ? {}
      : { marketGridIntensityGCo2ePerKwh: cluster.marketGridIntensityGCo2ePerKwh }),
    overrides: cluster.pue === undefined ? undefined : { pue: cluster.pue },
  };
}

/** The carbon bound (operational + embodied) of a request of at most `outputTokens` on `cluster`. */
export function co2eBoundOn(model: CarbonModelProfile, cluster: ClusterInfo): (outputTokens: number) => bigint {
  const profile = carbonClusterOf(cluster);
  return (outputTokens) => co2eMicrogramsBound(model, profile, outputTokens);
}

/** The carbon columns of a usage row. */
export interface UsageCarbon {
  /** Operational + embodied: what caps count. */
  co2eMicrograms: bigint;
  operationalCo2eMicrograms: bigint;
  embodiedCo2eMicrograms: bigint;
  /** Operational at the cluster's market-based factor; null without one. */
  marketCo2eMicrograms: bigint | null;
  carbonMethodology: string;
  carbonAssumed: boolean;
  energyMicroWh: bigint;
}

/** What one request emitted, by the carbon model, from its generated tokens and measured latency. */
export function usageCarbonOf(
  model: ModelCarbon,
  cluster: ClusterInfo,
  usage: { outputTokens: number; latencySeconds: number },
): UsageCarbon {
  const emissions = requestEmissions(model.profile, carbonClusterOf(cluster), usage);
  return {
    co2eMicrograms: emissions.co2eMicrograms,
    operationalCo2eMicrograms: emissions.operationalCo2eMicrograms,
    embodiedCo2eMicrograms: emissions.embodiedCo2eMicrograms,
    marketCo2eMicrograms: emissions.marketCo2eMicrograms,
    carbonMethodology,
    carbonAssumed: model.assumed,
    energyMicroWh: BigInt(Math.ceil(emissions.totalEnergyWh * 1e6)),
  };
}

/** Served models with no carbon profile on their cluster nor in the gateway setting: metered as assumed. */
export function modelsWithoutProfile(
  clusters: readonly (ClusterInfo & { models: readonly string[] })[],
  settingsProfiles: Record<string, CarbonModelProfile>,
): { model: string; cluster: string }[] {
  return clusters.flatMap((cluster) =>
    cluster.models
      .filter((model) => cluster.modelProfiles?.[model] === undefined && settingsProfiles[model] === undefined)
      .map((model) => ({ model, cluster: cluster.name })),
  );
}
