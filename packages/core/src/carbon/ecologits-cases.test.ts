import { describe, expect, it } from 'vitest';
import fixture from './fixtures/ecologits-cases.json';
import { requestEmissions } from './request-emissions';

/** Relative tolerance on energy and each GWP term: floating-point noise only, no modelling difference. */
const relativeTolerance = 1e-6;

function expectClose(actual: number, expected: number, what: string): void {
  const scale = Math.max(Math.abs(expected), Number.MIN_VALUE);
  expect(Math.abs(actual - expected) / scale, `${what}: ours ${actual}, EcoLogits ${expected}`).toBeLessThanOrEqual(
    relativeTolerance,
  );
}

describe('the carbon model equals EcoLogits 0.11.3 on cases it computed (fixtures/ecologits-cases.py)', () => {
  it('was produced by ecologits 0.11.3', () => {
    expect(fixture.producedBy).toMatch(/^ecologits 0\.11\.3,/);
    expect(fixture.cases.length).toBeGreaterThanOrEqual(8);
  });

  it.each(fixture.cases.map((testCase) => [testCase.name, testCase] as const))('%s', (_name, { input, ecologits }) => {
    const result = requestEmissions(
      {
        totalParamsBillions: input.totalParamsBillions,
        activeParamsBillions: input.activeParamsBillions,
        ...(input.tokensPerSecond === null ? {} : { tokensPerSecond: input.tokensPerSecond }),
      },
      { region: 'fixture', gridIntensityGCo2ePerKwh: input.gridIntensityGCo2ePerKwh, overrides: { pue: input.pue } },
      {
        outputTokens: input.outputTokens,
        ...(input.latencySeconds === null ? {} : { latencySeconds: input.latencySeconds }),
      },
    );
    expectClose(result.totalEnergyWh / 1000, ecologits.energyKwh, 'energy (kWh)');
    expectClose(result.operationalGCo2e / 1000, ecologits.usageGwpKgCo2e, 'operational (usage) GWP (kgCO2e)');
    expectClose(result.embodiedGCo2e / 1000, ecologits.embodiedGwpKgCo2e, 'embodied GWP (kgCO2e)');
    // What is stored: each term rounded up to a microgram, never below EcoLogits' figure.
    expect(Number(result.operationalCo2eMicrograms)).toBe(Math.ceil(result.operationalGCo2e * 1e6));
    expect(Number(result.embodiedCo2eMicrograms)).toBe(Math.ceil(result.embodiedGCo2e * 1e6));
  });
});
