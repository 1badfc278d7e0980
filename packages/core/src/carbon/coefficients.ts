import { ValidationError } from '../errors';

/**
 * Coefficients of EcoLogits' LLM inference model, as released in ecologits 0.11.3 on PyPI
 * (ecologits/impacts/llm.py, module constants; documented at ecologits.ai "methodology/llm_inference").
 * Every one can be overridden per cluster and per model.
 */
export interface CarbonCoefficients {
  /** Wh per output token per GPU = alpha * e^(beta * batchSize) * P_active(B) + gamma. Fit on ML.ENERGY (H100, vLLM). */
  readonly gpuEnergyAlpha: number;
  readonly gpuEnergyBeta: number;
  readonly gpuEnergyGamma: number;
  /** Seconds per output token = alpha * P_active(B) + beta * batchSize + gamma, when latency is not measured. */
  readonly latencyAlpha: number;
  readonly latencyBeta: number;
  readonly latencyGamma: number;
  /** Bits per weight when loaded (16 = fp16/bf16); sets the memory, hence the GPU count. */
  readonly quantizationBits: number;
  /** Memory overhead on the weights for inference (EleutherAI, "Transformer Math 101"). */
  readonly memoryOverheadFactor: number;
  readonly gpuMemoryGb: number;
  /** GPUs installed in one server. */
  readonly serverGpuCount: number;
  /** Power of one server without its GPUs, in kW. */
  readonly serverPowerKw: number;
  /** Requests served concurrently; the server's non-GPU energy is shared among them. */
  readonly batchSize: number;
  /** Power Usage Effectiveness of the data center. */
  readonly pue: number;
  /** Manufacturing emissions of one server without its GPUs, kgCO2e. */
  readonly serverEmbodiedKgCo2e: number;
  /** Manufacturing emissions of one GPU, kgCO2e. */
  readonly gpuEmbodiedKgCo2e: number;
  /** Lifetime over which the hardware's embodied emissions are spread, seconds. */
  readonly hardwareLifetimeSeconds: number;
}

export const ecoLogitsDefaults: CarbonCoefficients = {
  // llm.py GPU_ENERGY_ALPHA / _BETA / _GAMMA (Wh, divided by 1000 there to get kWh).
  gpuEnergyAlpha: 1.1665273170451914e-6,
  gpuEnergyBeta: -0.011205921025579175,
  gpuEnergyGamma: 4.052928146734005e-5,
  // llm.py LATENCY_ALPHA / _BETA / _GAMMA (seconds per output token).
  latencyAlpha: 0.0006785088094353663,
  latencyBeta: 0.0003119310311688259,
  latencyGamma: 0.019473717579473387,
  // llm.py MODEL_QUANTIZATION_BITS = 16; model_required_memory uses 1.2 * P * bits / 8.
  quantizationBits: 16,
  memoryOverheadFactor: 1.2,
  // llm.py GPU_MEMORY = 80 (GB, NVIDIA H100 80GB).
  gpuMemoryGb: 80,
  // llm.py SERVER_GPUS = 8, SERVER_POWER = 1.2 kW (p5.48xlarge-class server without its GPUs).
  serverGpuCount: 8,
  serverPowerKw: 1.2,
  // llm.py BATCH_SIZE = 64.
  batchSize: 64,
  // Methodology page: "PUE = 1.2 for hyperscaler data centers"; EcoLogits now uses each provider's own PUE,
  // so set the cluster's measured PUE.
  pue: 1.2,
  // llm.py SERVER_EMBODIED_IMPACT_GWP = 5700 (kgCO2eq, one server without its GPUs).
  serverEmbodiedKgCo2e: 5700,
  // llm.py GPU_EMBODIED_IMPACT_GWP = 273 (kgCO2eq, one GPU).
  gpuEmbodiedKgCo2e: 273,
  // llm.py HARDWARE_LIFESPAN = 3 * 365 * 24 * 60 * 60 (seconds: three years of 365 days).
  hardwareLifetimeSeconds: 3 * 365 * 24 * 60 * 60,
};

/** Merges overrides over the defaults: cluster first, then model (the most specific wins). */
export function resolveCoefficients(...overrides: Array<Partial<CarbonCoefficients> | undefined>): CarbonCoefficients {
  const merged: CarbonCoefficients = Object.assign({}, ecoLogitsDefaults, ...overrides.filter((o) => o !== undefined));
  for (const [name, value] of Object.entries(merged)) {
    if (typeof value !== 'number' || !Number.isFinite(value)) {
      throw new ValidationError(`Carbon coefficient ${name} must be a finite number, got ${String(value)}.`, {
        coefficient: name,
      });
    }
  }
  const positive: Array<keyof CarbonCoefficients> = [
    'quantizationBits',
    'memoryOverheadFactor',
    'gpuMemoryGb',
    'serverGpuCount',
    'batchSize',
    'hardwareLifetimeSeconds',
  ];
  for (const name of positive) {
    if (merged[name] <= 0)
      throw new ValidationError(`Carbon coefficient ${name} must be greater than zero, got ${merged[name]}.`);
  }
  if (merged.pue < 1)
    throw new ValidationError(
      `Carbon coefficient pue must be at least 1 (facility energy / IT energy), got ${merged.pue}.`,
    );
  for (const name of [
    'gpuEnergyAlpha',
    'gpuEnergyGamma',
    'latencyAlpha',
    'latencyBeta',
    'latencyGamma',
    'serverPowerKw',
    'serverEmbodiedKgCo2e',
    'gpuEmbodiedKgCo2e',
  ] as const) {
    if (merged[name] < 0)
      throw new ValidationError(`Carbon coefficient ${name} must not be negative, got ${merged[name]}.`);
  }
  return merged;
}
