import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ValidationError } from '../errors';
import { ecoLogitsDefaults, resolveCoefficients } from './coefficients';
import { co2eMicrogramsBound, requestEmissions, requiredGpuCount } from './request-emissions';

describe('carbon per request, by EcoLogits 0.11.3 (ecologits/impacts/llm.py)', () => {
  it('matches a hand computation for an 8B dense model, latency modelled', () => {
    // Llama-3-8B: P_total = P_active = 8 (billions). 500 output tokens, grid 400 gCO2e/kWh, PUE 1.2.
    // exp(beta * B) = exp(-0.011205921025579175 * 64) = exp(-0.71717894563707)   = 0.48812734922979
    // Wh/token/GPU  = 1.1665273170451914e-6 * 0.48812734922979 * 8 + 4.052928146734005e-5
    //               = 4.55153110966e-6 + 4.052928146734e-5                      = 4.508459256393e-5
    // memory        = 1.2 * 8 * 16 / 8 = 19.2 GB; 19.2 / 80 = 0.24 -> ceil 1 -> power of two 1 GPU
    // E_gpu         = 1 GPU * 500 * 4.508459256393e-5                             = 0.022542296282 Wh
    // s/token       = 0.0006785088094353663 * 8 + 0.0003119310311688259 * 64 + 0.019473717579473387
    //               = 0.005428070475 + 0.019963585995 + 0.019473717579           = 0.04486537405
    // dT            = 500 * 0.04486537405                                         = 22.432687025 s
    // E_server      = 22.432687025 / 3600 h * 1200 W * 1/8 GPUs / 64 batch         = 0.014604613948 Wh
    // E_it          = 0.014604613948 + 0.022542296282                             = 0.037146910230 Wh
    // E             = 1.2 * 0.037146910230                                        = 0.044576292277 Wh
    // operational   = 0.044576292277 / 1000 kWh * 400 gCO2e/kWh                   = 0.017830516911 g
    //               -> ceil(17830.516911 ug)                                      = 17831 ug
    // hardware      = 1/8 servers * 5700 kg + 1 GPU * 273 kg                      = 985.5 kgCO2e
    // embodied      = 1000 * 22.432687025 s * 985.5 / (94,608,000 s * 64 batch)   = 0.003651153487 g
    //               -> ceil(3651.153487 ug)                                       = 3652 ug
    // total         = 17831 + 3652                                                = 21483 ug
    const result = requestEmissions(
      { totalParamsBillions: 8, activeParamsBillions: 8 },
      { region: 'test-grid-400', gridIntensityGCo2ePerKwh: 400 },
      { outputTokens: 500 },
    );
    expect(result.gpuCount).toBe(1);
    expect(result.generationLatencySeconds).toBeCloseTo(22.432687025, 8);
    expect(result.gpuEnergyWh).toBeCloseTo(0.022542296282, 11);
    expect(result.serverEnergyWh).toBeCloseTo(0.014604613948, 11);
    expect(result.itEnergyWh).toBeCloseTo(0.03714691023, 11);
    expect(result.totalEnergyWh).toBeCloseTo(0.044576292277, 11);
    expect(result.operationalGCo2e).toBeCloseTo(0.017830516911, 11);
    expect(result.embodiedGCo2e).toBeCloseTo(0.003651153487, 11);
    expect(result.operationalCo2eMicrograms).toBe(17831n);
    expect(result.embodiedCo2eMicrograms).toBe(3652n);
    expect(result.co2eMicrograms).toBe(21483n);
    expect(result.marketCo2eMicrograms).toBeNull();
    expect(result.methodology).toBe('ecologits-0.11.3');
  });

  it('matches a hand computation for a 47B-total / 13B-active MoE, latency measured, cluster PUE 1.1', () => {
    // Mixtral-8x7B: P_total = 47, P_active = 13. 1000 output tokens, measured latency 12 s,
    // grid 56 gCO2e/kWh, the cluster's PUE 1.1.
    // Wh/token/GPU  = 1.1665273170451914e-6 * 0.48812734922979 * 13 + 4.052928146734005e-5
    //               = 7.40238053195e-6 + 4.052928146734e-5                      = 4.793166199929e-5
    // memory        = 1.2 * 47 * 16 / 8 = 112.8 GB; 112.8 / 80 = 1.41 -> ceil 2 -> power of two 2 GPUs
    // E_gpu         = 2 GPUs * 1000 * 4.793166199929e-5                           = 0.095863323999 Wh
    // s/token       = 0.0006785088094353663 * 13 + 0.0003119310311688259 * 64 + 0.019473717579473387
    //               = 0.008820614523 + 0.019963585995 + 0.019473717579           = 0.048257918097
    // dT            = min(1000 * 0.048257918097 = 48.257918097 s, measured 12 s)  = 12 s
    // E_server      = 12 / 3600 h * 1200 W * 2/8 GPUs / 64 batch                   = 0.015625 Wh
    // E_it          = 0.015625 + 0.095863323999                                   = 0.111488323999 Wh
    // E             = 1.1 * 0.111488323999                                        = 0.122637156398 Wh
    // operational   = 0.122637156398 / 1000 kWh * 56 gCO2e/kWh                    = 0.006867680758 g
    //               -> ceil(6867.680758 ug)                                       = 6868 ug
    // market        = 0.122637156398 / 1000 kWh * 10 gCO2e/kWh (the cluster's PPA) = 0.001226371564 g -> 1227 ug
    // hardware      = 2/8 servers * 5700 kg + 2 GPUs * 273 kg                     = 1971 kgCO2e
    // embodied      = 1000 * 12 s * 1971 / (94,608,000 s * 64 batch)              = 0.00390625 g -> 3907 ug
    const result = requestEmissions(
      { totalParamsBillions: 47, activeParamsBillions: 13 },
      {
        region: 'test-grid-56',
        gridIntensityGCo2ePerKwh: 56,
        marketGridIntensityGCo2ePerKwh: 10,
        overrides: { pue: 1.1 },
      },
      { outputTokens: 1000, latencySeconds: 12 },
    );
    expect(result.gpuCount).toBe(2);
    expect(result.generationLatencySeconds).toBe(12);
    expect(result.gpuEnergyWh).toBeCloseTo(0.095863323999, 11);
    expect(result.serverEnergyWh).toBeCloseTo(0.015625, 12);
    expect(result.totalEnergyWh).toBeCloseTo(0.122637156398, 11);
    expect(result.operationalGCo2e).toBeCloseTo(0.006867680758, 11);
    expect(result.embodiedGCo2e).toBeCloseTo(0.00390625, 12);
    expect(result.co2eMicrograms).toBe(6868n + 3907n);
    expect(result.marketCo2eMicrograms).toBe(1227n);
  });

  it('rounds the GPU count up to a power of two from total parameters', () => {
    const c = ecoLogitsDefaults;
    expect(requiredGpuCount(0.5, c)).toBe(1);
    expect(requiredGpuCount(70, c)).toBe(4); // 168 GB -> 3 -> 4
    expect(requiredGpuCount(405, c)).toBe(16); // 972 GB -> 13 -> 16
    expect(requiredGpuCount(405, { ...c, quantizationBits: 8 })).toBe(8); // 486 GB -> 7 -> 8
  });

  it('lets the model override the cluster, and the cluster override the defaults', () => {
    const c = resolveCoefficients({ pue: 1.4, batchSize: 32 }, { batchSize: 16 });
    expect(c.pue).toBe(1.4);
    expect(c.batchSize).toBe(16);
    expect(c.gpuEnergyAlpha).toBe(ecoLogitsDefaults.gpuEnergyAlpha);
    expect(() => resolveCoefficients({ pue: 0.9 })).toThrow(/pue must be at least 1/);
    expect(() => resolveCoefficients({ batchSize: 0 })).toThrow(/batchSize must be greater than zero/);
    expect(() => resolveCoefficients({ serverPowerKw: Number.NaN })).toThrow(/serverPowerKw must be a finite number/);
  });

  it('uses a measured decode speed instead of the latency regression', () => {
    const result = requestEmissions(
      { totalParamsBillions: 8, activeParamsBillions: 8, tokensPerSecond: 50 },
      { region: 'r', gridIntensityGCo2ePerKwh: 400 },
      { outputTokens: 100 },
    );
    expect(result.generationLatencySeconds).toBe(2);
  });

  it('refuses impossible models and inputs with a message that names the field', () => {
    const cluster = { region: 'r', gridIntensityGCo2ePerKwh: 400 };
    expect(() =>
      requestEmissions({ totalParamsBillions: 8, activeParamsBillions: 13 }, cluster, { outputTokens: 1 }),
    ).toThrow(ValidationError);
    expect(() =>
      requestEmissions(
        { totalParamsBillions: 8, activeParamsBillions: 8 },
        { region: 'x', gridIntensityGCo2ePerKwh: -1 },
        { outputTokens: 1 },
      ),
    ).toThrow(/gridIntensityGCo2ePerKwh of region x/);
    expect(() =>
      requestEmissions({ totalParamsBillions: 8, activeParamsBillions: 8 }, cluster, { outputTokens: 1.5 }),
    ).toThrow(/outputTokens/);
  });

  it('bounds every request of up to N tokens, whatever its measured latency, and is deterministic', () => {
    const model = { totalParamsBillions: 47, activeParamsBillions: 13 };
    const cluster = { region: 'r', gridIntensityGCo2ePerKwh: 700 };
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 200_000 }),
        fc.integer({ min: 0, max: 200_000 }),
        fc.double({ min: 0, max: 1e5, noNaN: true }),
        (a, b, latency) => {
          const [fewer, more] = a <= b ? [a, b] : [b, a];
          const actual = requestEmissions(model, cluster, { outputTokens: fewer, latencySeconds: latency });
          expect(actual.co2eMicrograms).toBeLessThanOrEqual(co2eMicrogramsBound(model, cluster, more));
          expect(
            requestEmissions(model, cluster, { outputTokens: fewer, latencySeconds: latency }).co2eMicrograms,
          ).toBe(actual.co2eMicrograms);
          expect(actual.gCo2e).toBeGreaterThanOrEqual(0);
        },
      ),
      { numRuns: 500 },
    );
  });
});
