import { ValidationError } from '../errors';
import { invariant } from '../invariant';
import { type CarbonCoefficients, resolveCoefficients } from './coefficients';

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
  /** Grid carbon intensity of the region, gCO2e per kWh (the I term of GSF SCI). */
  readonly gridIntensityGCo2ePerKwh: number;
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
  readonly gCo2e: number;
  /** gCO2e in micrograms, rounded up: the integer that is stored and capped. */
  readonly co2eMicrograms: bigint;
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
  if (model.tokensPerSecond !== undefined && !(Number.isFinite(model.tokensPerSecond) && model.tokensPerSecond > 0)) {
    throw new ValidationError(`tokensPerSecond must be a positive number, got ${model.tokensPerSecond}.`);
  }
}

/**
 * Energy and emissions of one request, following EcoLogits' LLM inference methodology:
 *   E_gpu(Wh)    = T_out * (alpha * e^(beta * B) * P_active + gamma)          per GPU
 *   GPUs         = 2^ceil(log2(ceil(1.2 * P_total * bits/8 / 80 GB)))
 *   dT(s)        = min(T_out * (A * P_active + B' * B + C), measured latency)
 *   E_server(Wh) = dT/3600 * 1000 * W_server(kW) * GPUs / GPUs_installed / B
 *   E(Wh)        = PUE * (E_server + GPUs * E_gpu)
 *   gCO2e        = E / 1000 * grid intensity (gCO2e/kWh)                       GSF SCI's E * I
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
  const gCo2e = (totalEnergyWh / 1000) * cluster.gridIntensityGCo2ePerKwh;
  const micrograms = Math.ceil(gCo2e * 1e6);
  invariant(
    Number.isSafeInteger(micrograms) && micrograms >= 0,
    `CO2e of ${gCo2e} g does not fit a safe integer of micrograms; check the coefficients.`,
  );
  return {
    gpuCount,
    generationLatencySeconds,
    gpuEnergyWh,
    serverEnergyWh,
    itEnergyWh,
    totalEnergyWh,
    gCo2e,
    co2eMicrograms: BigInt(micrograms),
    region: cluster.region,
    coefficients: c,
  };
}

/**
 * The most a request with at most `outputTokens` can emit: with no measured latency the modelled
 * latency is used, which caps any measured one, and every term grows with the token count.
 */
export function co2eMicrogramsBound(
  model: CarbonModelProfile,
  cluster: CarbonClusterProfile,
  outputTokens: number,
): bigint {
  return requestEmissions(model, cluster, { outputTokens }).co2eMicrograms;
}
