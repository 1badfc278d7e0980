import { describe, it } from 'vitest';
import fixture from '../fixtures/reference-values.json';
import { expectClose } from '../test-kit';
import {
  chiSquareSf,
  normalCdf,
  normalQuantile,
  normalSf,
  studentTCdf,
  studentTQuantile,
  studentTSf,
} from './distributions';
import { logGamma, regularizedBeta, regularizedGamma } from './special-functions';

// Relative tolerances, from the error measured against mpmath at 50 digits (see distributions.ts):
// normal and chi-square near the last bits; Student t at 1e-13 for moderate ν, 1e-10 past ν = 1e5
// (where SciPy's own values are off by about as much).
const tight = 1e-12;
const studentTRelative = (degreesOfFreedom: number): number => (degreesOfFreedom <= 1e4 ? 1e-12 : 1e-9);

describe('distribution functions equal SciPy on fixtures/reference-values.json', () => {
  it('normal CDF and survival function, to 1e-300', () => {
    for (const { x, cdf, sf } of fixture.normalCdf) {
      expectClose(normalCdf(x), cdf, `Φ(${x})`, { relative: tight });
      expectClose(normalSf(x), sf, `1 - Φ(${x})`, { relative: tight });
    }
  });

  it('normal quantile', () => {
    for (const { p, quantile } of fixture.normalQuantile) {
      expectClose(normalQuantile(p), quantile, `Φ⁻¹(${p})`, { relative: tight, absolute: 1e-15 });
    }
  });

  it('Student t CDF and survival function, ν from 1 to 1e9', () => {
    for (const { t, df, cdf, sf } of fixture.studentTCdf) {
      const relative = studentTRelative(df);
      expectClose(studentTCdf(t, df), cdf, `T_${df}(${t})`, { relative, absolute: 1e-300 });
      expectClose(studentTSf(t, df), sf, `1 - T_${df}(${t})`, { relative, absolute: 1e-300 });
    }
  });

  it('Student t quantile, ν from 1 to 1e9', () => {
    for (const { p, df, quantile } of fixture.studentTQuantile) {
      expectClose(studentTQuantile(p, df), quantile, `T_${df}⁻¹(${p})`, { relative: 1e-11, absolute: 1e-15 });
    }
  });

  it('chi-square survival function', () => {
    for (const { x, df, sf } of fixture.chiSquareSf) {
      expectClose(chiSquareSf(x, df), sf, `P(χ²_${df} > ${x})`, { relative: tight, absolute: 1e-300 });
    }
  });

  it('regularized incomplete gamma and beta, log-gamma', () => {
    for (const { a, x, lower, upper } of fixture.regularizedGamma) {
      // a = 1e4 loses digits to a·ln x - x (about 1e-11); chi-square tests use a below 50.
      const relative = a > 1000 ? 1e-10 : tight;
      expectClose(regularizedGamma(a, x).lower, lower, `P(${a}, ${x})`, { relative });
      expectClose(regularizedGamma(a, x).upper, upper, `Q(${a}, ${x})`, { relative });
    }
    for (const { a, b, x, value } of fixture.regularizedBeta) {
      expectClose(regularizedBeta(x, a, b), value, `I_${x}(${a}, ${b})`, { relative: a > 1e4 ? 1e-9 : tight });
    }
    for (const { x, value } of fixture.logGamma) {
      expectClose(logGamma(x), value, `lnΓ(${x})`, { relative: 1e-14, absolute: 1e-14 });
    }
  });

  it('hits textbook values (Abramowitz & Stegun tables 26.1, 26.10)', () => {
    expectClose(normalQuantile(0.975), 1.959963984540054, 'z_0.975', { relative: 1e-15 });
    expectClose(studentTQuantile(0.975, 10), 2.228138851986274, 't_0.975,10', { relative: 1e-13 });
    expectClose(studentTQuantile(0.995, 1), 63.65674116287399, 't_0.995,1', { relative: 1e-13 });
    expectClose(chiSquareSf(3.841458820694124, 1), 0.05, 'χ²_1 at 3.8415', { relative: 1e-13 });
  });
});
