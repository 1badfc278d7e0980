import { ValidationError } from '../errors';
import { invariant } from '../invariant';
import { type CarbonCoefficients, resolveCoefficients } from './coefficients';

/**
 * Which methodology computes the carbon of a request: stored on every usage row, so a row computed
 * under another version of the model can be told apart (and recomputed) later.
 */
export const carbonMethodology = 'ecologits-0.11.3';

/** A model as the carbon model sees it. For a dense model active = total. */
export interface CarbonModelProfile {
  /** Total parameters in billions: sets the memory, hence the GPU count. */
  readonly totalParamsBillions: number;
  /** Parameters active per token in billions (a MoE's routed share): sets the energy per token. */
  readonly activeParamsBillions: number;
  /** Measured decode speed; replaces the latency regression when set (llm.py `tps`). */
  readonly tokensPerSecond?: number;
  readonly overrides?: Partial<CarbonCoefficients>;
}

/** The cluster a request ran on. */
export interface CarbonClusterProfile {
  readonly region: string;
  /** Location-based grid carbon intensity of the region, gCO2e per kWh (the I term of GSF SCI). */
  readonly gridIntensityGCo2ePerKwh: number;
  /** Market-based factor (contractual instruments), gCO2e per kWh; GHG Protocol Scope 2 reports both. */
  readonly marketGridIntensityGCo2ePerKwh?: number;
  readonly overrides?: Partial<CarbonCoefficients>;
}

export interface RequestCarbonInput {
  readonly outputTokens: number;
  /** Measured request latency; EcoLogits caps the modelled generation latency by it. */
  readonly latencySeconds?: number;
}

export interface RequestEmissions {
  readonly gpuCount: number;
  readonly generationLatencySeconds: number;
  /** Energy of all the request's GPUs (per-GPU energy x GPU count), Wh. */
  readonly gpuEnergyWh: number;
  /** The request's share of the server's non-GPU energy, Wh. */
  readonly serverEnergyWh: number;
  /** GPU + server, before the data center overhead, Wh. */
  readonly itEnergyWh: number;
  /** IT energy x PUE, Wh. */
  readonly totalEnergyWh: number;
  /** Energy x location-based grid intensity, g (EcoLogits' usage GWP). */
  readonly operationalGCo2e: number;
  /** The request's share of the server's and GPUs' manufacturing emissions, g (EcoLogits' embodied GWP). */
  readonly embodiedGCo2e: number;
  /** Operational + embodied, g. */
  readonly gCo2e: number;
  /** Operational in micrograms, rounded up. */
  readonly operationalCo2eMicrograms: bigint;
  /** Embodied in micrograms, rounded up. */
  readonly embodiedCo2eMicrograms: bigint;
  /** Operational + embodied micrograms exactly: the integer that is stored and capped. */
  readonly co2eMicrograms: bigint;
  /** Energy x the market-based factor in micrograms, rounded up; null when the cluster has none. */
  readonly marketCo2eMicrograms: bigint | null;
  readonly methodology: typeof carbonMethodology;
  readonly region: string;
  readonly coefficients: CarbonCoefficients;
}

/** 2^ceil(log2(n)): EcoLogits rounds the GPU count up to a power of two (tensor parallelism). */
function nextPowerOfTwo(count: number): number {
  let power = 1;
  while (power < count) power *= 2;
  return power;
}

/** GPUs needed to hold the weights: ceil(overhead * P_total * bits/8 GB / GPU memory), up to a power of two. */
export function requiredGpuCount(totalParamsBillions: number, c: CarbonCoefficients): number {
  const memoryGb = (c.memoryOverheadFactor * totalParamsBillions * c.quantizationBits) / 8;
  return nextPowerOfTwo(Math.max(1, Math.ceil(memoryGb / c.gpuMemoryGb)));
}

function validate(model: CarbonModelProfile, cluster: CarbonClusterProfile, input: RequestCarbonInput): void {
  const { totalParamsBillions: total, activeParamsBillions: active } = model;
  if (!(Number.isFinite(total) && total > 0 && Number.isFinite(active) && active > 0 && active <= total)) {
    throw new ValidationError(
      `Model parameters must satisfy 0 < activeParamsBillions <= totalParamsBillions, got active ${active}, total ${total}.`,
    );
  }
  if (!(Number.isFinite(cluster.gridIntensityGCo2ePerKwh) && cluster.gridIntensityGCo2ePerKwh >= 0)) {
    throw new ValidationError(
      `gridIntensityGCo2ePerKwh of region ${cluster.region} must be a finite number >= 0, got ${cluster.gridIntensityGCo2ePerKwh}.`,
    );
  }
  if (!Number.isSafeInteger(input.outputTokens) || input.outputTokens < 0) {
    throw new ValidationError(`outputTokens must be a non-negative integer, got ${input.outputTokens}.`);
  }
  if (input.latencySeconds !== undefined && !(Number.isFinite(input.latencySeconds) && input.latencySeconds >= 0)) {
    throw new ValidationError(`latencySeconds must be a finite number >= 0, got ${input.latencySeconds}.`);
  }
  const market = cluster.marketGridIntensityGCo2ePerKwh;
  if (market !== undefined && !(Number.isFinite(market) && market >= 0)) {
    throw new ValidationError(
      `marketGridIntensityGCo2ePerKwh of region ${cluster.region} must be a finite number >= 0, got ${market}.`,
    );
  }
  if (model.tokensPerSecond !== undefined && !(Number.isFinite(model.tokensPerSecond) && model.tokensPerSecond > 0)) {
    throw new ValidationError(`tokensPerSecond must be a positive number, got ${model.tokensPerSecond}.`);
  }
}

/**
 * Energy and emissions of one request, following EcoLogits 0.11.3 (ecologits/impacts/llm.py):
 *   E_gpu(Wh)    = T_out * (alpha * e^(beta * B) * P_active + gamma)          per GPU  (gpu_energy)
 *   GPUs         = 2^ceil(log2(ceil(1.2 * P_total * bits/8 / 80 GB)))                 (gpu_required_count)
 *   dT(s)        = min(T_out * (A * P_active + B' * B + C), measured latency)         (generation_latency)
 *   E_server(Wh) = dT/3600 * 1000 * W_server(kW) * GPUs / GPUs_installed / B          (server_energy)
 *   E(Wh)        = PUE * (E_server + GPUs * E_gpu)                                     (request_energy)
 *   operational  = E / 1000 * grid intensity (gCO2e/kWh)                               (request_usage_gwp)
 *   hardware(kg) = GPUs / GPUs_installed * server_embodied + GPUs * gpu_embodied       (server_gpu_embodied_gwp)
 *   embodied(g)  = 1000 * dT * hardware / (lifetime(s) * B)                            (request_embodied_gwp)
 * Operational and embodied are each rounded up to micrograms; the total is their sum, exactly.
 */
export function requestEmissions(
  model: CarbonModelProfile,
  cluster: CarbonClusterProfile,
  input: RequestCarbonInput,
): RequestEmissions {
  validate(model, cluster, input);
  const c = resolveCoefficients(cluster.overrides, model.overrides);
  const gpuCount = requiredGpuCount(model.totalParamsBillions, c);
  const gpuWhPerToken =
    c.gpuEnergyAlpha * Math.exp(c.gpuEnergyBeta * c.batchSize) * model.activeParamsBillions + c.gpuEnergyGamma;
  const gpuEnergyWh = gpuCount * input.outputTokens * gpuWhPerToken;
  const secondsPerToken =
    model.tokensPerSecond !== undefined
      ? 1 / model.tokensPerSecond
      : c.latencyAlpha * model.activeParamsBillions + c.latencyBeta * c.batchSize + c.latencyGamma;
  const modelledSeconds = input.outputTokens * secondsPerToken;
  const generationLatencySeconds =
    input.latencySeconds !== undefined && input.latencySeconds < modelledSeconds
      ? input.latencySeconds
      : modelledSeconds;
  const serverEnergyWh =
    ((generationLatencySeconds / 3600) * c.serverPowerKw * 1000 * (gpuCount / c.serverGpuCount)) / c.batchSize;
  const itEnergyWh = serverEnergyWh + gpuEnergyWh;
  const totalEnergyWh = c.pue * itEnergyWh;
  const operationalGCo2e = (totalEnergyWh / 1000) * cluster.gridIntensityGCo2ePerKwh;
  const hardwareKgCo2e = (gpuCount / c.serverGpuCount) * c.serverEmbodiedKgCo2e + gpuCount * c.gpuEmbodiedKgCo2e;
  const embodiedGCo2e = (1000 * generationLatencySeconds * hardwareKgCo2e) / (c.hardwareLifetimeSeconds * c.batchSize);
  const market = cluster.marketGridIntensityGCo2ePerKwh;
  const operationalCo2eMicrograms = microgramsUp(operationalGCo2e);
  const embodiedCo2eMicrograms = microgramsUp(embodiedGCo2e);
  return {
    gpuCount,
    generationLatencySeconds,
    gpuEnergyWh,
    serverEnergyWh,
    itEnergyWh,
    totalEnergyWh,
    operationalGCo2e,
    embodiedGCo2e,
    gCo2e: operationalGCo2e + embodiedGCo2e,
    operationalCo2eMicrograms,
    embodiedCo2eMicrograms,
    co2eMicrograms: operationalCo2eMicrograms + embodiedCo2eMicrograms,
    marketCo2eMicrograms: market === undefined ? null : microgramsUp((totalEnergyWh / 1000) * market),
    methodology: carbonMethodology,
    region: cluster.region,
    coefficients: c,
  };
}

/** Grams as integer micrograms, rounded up (what is stored never understates). */
function microgramsUp(grams: number): bigint {
  const micrograms = Math.ceil(grams * 1e6);
  invariant(
    Number.isSafeInteger(micrograms) && micrograms >= 0,
    `CO2e of ${grams} g does not fit a safe integer of micrograms; check the coefficients.`,
  );
  return BigInt(micrograms);
}

/**
 * The most a request with at most `outputTokens` can emit (operational + embodied): with no
 * measured latency the modelled latency is used, which caps any measured one, and both terms grow
 * with the token count and the latency, each rounded up on its own.
 */
export function co2eMicrogramsBound(
  model: CarbonModelProfile,
  cluster: CarbonClusterProfile,
  outputTokens: number,
): bigint {
  return requestEmissions(model, cluster, { outputTokens }).co2eMicrograms;
}
