import { invariant } from '../../invariant';
import { logGammaHalfStep, regularizedBeta, regularizedGamma } from './special-functions';

/**
 * Distribution functions for the A/B statistics: normal, Student t and chi-square, each tail computed
 * directly so a p-value of 1e-30 keeps its digits (scipy computes `1 - cdf` in gbstats and loses
 * them; its upper tails are exact). Checked against scipy in fixtures/reference-values.json.
 */

const sqrtTwoPi = Math.sqrt(2 * Math.PI);
/** Newton steps the quantile searches may take; they converge in under ten from their starting points. */
export const quantileIterationsMax = 100;

/** Standard normal density. */
export function normalPdf(x: number): number {
  return Math.exp(-0.5 * x * x) / sqrtTwoPi;
}

/** Standard normal CDF Φ(x) through the incomplete gamma: Φ(-|x|) = Q(1/2, x²/2) / 2. */
export function normalCdf(x: number): number {
  invariant(!Number.isNaN(x), 'normalCdf of NaN');
  const halfTail = 0.5 * regularizedGamma(0.5, 0.5 * x * x).upper;
  return x < 0 ? halfTail : 1 - halfTail;
}

/** Standard normal survival function 1 - Φ(x), computed without the subtraction. */
export function normalSf(x: number): number {
  return normalCdf(-x);
}

// Acklam's rational approximation (relative error 1.15e-9), refined below by one Halley step.
const acklamA = [
  -3.969683028665376e1, 2.209460984245205e2, -2.759285104469687e2, 1.38357751867269e2, -3.066479806614716e1,
  2.506628277459239,
];
const acklamB = [
  -5.447609879822406e1, 1.615858368580409e2, -1.556989798598866e2, 6.680131188771972e1, -1.328068155288572e1,
];
const acklamC = [
  -7.784894002430293e-3, -3.223964580411365e-1, -2.400758277161838, -2.549732539343734, 4.374664141464968,
  2.938163982698783,
];
const acklamD = [7.784695709041462e-3, 3.224671290700398e-1, 2.445134137142996, 3.754408661907416];
const acklamLow = 0.02425;

function polynomial(coefficients: readonly number[], x: number): number {
  return coefficients.reduce((sum, coefficient) => sum * x + coefficient, 0);
}

/** Standard normal quantile Φ⁻¹(p) for p in (0, 1). */
export function normalQuantile(p: number): number {
  invariant(p > 0 && p < 1, `normalQuantile needs p in (0, 1), got ${p}`);
  let x: number;
  if (p < acklamLow || p > 1 - acklamLow) {
    const q = Math.sqrt(-2 * Math.log(p < 0.5 ? p : 1 - p));
    x = polynomial(acklamC, q) / (polynomial(acklamD, q) * q + 1);
    if (p > 0.5) x = -x;
  } else {
    const q = p - 0.5;
    const r = q * q;
    x = (polynomial(acklamA, r) * q) / (polynomial(acklamB, r) * r + 1);
  }
  // Halley step on the tail nearer p, so the residual keeps its relative precision.
  const residual = p < 0.5 ? normalCdf(x) - p : 1 - p - normalSf(x);
  const u = residual * sqrtTwoPi * Math.exp(0.5 * x * x);
  return x - u / (1 + 0.5 * x * u);
}

function assertDegreesOfFreedom(degreesOfFreedom: number): void {
  invariant(degreesOfFreedom > 0, `Student t needs positive degrees of freedom, got ${degreesOfFreedom}`);
}

/** Student t density with ν degrees of freedom (ν = Infinity is the normal). */
export function studentTPdf(t: number, degreesOfFreedom: number): number {
  assertDegreesOfFreedom(degreesOfFreedom);
  if (degreesOfFreedom === Infinity) return normalPdf(t);
  const halfNu = 0.5 * degreesOfFreedom;
  return Math.exp(
    logGammaHalfStep(halfNu) -
      0.5 * Math.log(degreesOfFreedom * Math.PI) -
      (halfNu + 0.5) * Math.log1p((t * t) / degreesOfFreedom),
  );
}

/** Past this many degrees of freedom the t CDF is the normal one, corrected (as in R's pt). */
export const largeDegreesOfFreedom = 4e5;

/**
 * Student t CDF: P(T <= t) = I_x(ν/2, 1/2) / 2 for t < 0, with x = ν / (ν + t²). Relative error
 * (against mpmath at 50 digits) about 1e-13 up to ν = 1e4, 1e-11 up to 1e6, 1e-10 at 1e7 and
 * 1e-8 in tails below 1e-50 at 1e9: past 4e5 the continued fraction runs at its convergence
 * boundary, so moderate |t| uses the normal approximation R uses there. SciPy (which gbstats
 * calls) is off by as much at the same points.
 */
export function studentTCdf(t: number, degreesOfFreedom: number): number {
  assertDegreesOfFreedom(degreesOfFreedom);
  invariant(!Number.isNaN(t), 'studentTCdf of NaN');
  if (degreesOfFreedom === Infinity) return normalCdf(t);
  if (t === Infinity) return 1;
  if (t === -Infinity) return 0;
  const absT = Math.abs(t);
  if (degreesOfFreedom > largeDegreesOfFreedom && absT * absT * absT < 4e-5 * degreesOfFreedom) {
    // As R's pt past 4e5 (nmath/pt.c): Abramowitz & Stegun 26.7.8. Its error grows as t⁶/ν², so
    // far tails stay with the continued fraction.
    const quarterInverse = 1 / (4 * degreesOfFreedom);
    return normalCdf((t * (1 - quarterInverse)) / Math.sqrt(1 + t * t * 2 * quarterInverse));
  }
  const tSquared = t * t;
  const denominator = degreesOfFreedom + tSquared;
  const halfTail =
    0.5 * regularizedBeta(degreesOfFreedom / denominator, 0.5 * degreesOfFreedom, 0.5, tSquared / denominator);
  return t < 0 ? halfTail : 1 - halfTail;
}

/** Student t survival function P(T > t), computed without the subtraction. */
export function studentTSf(t: number, degreesOfFreedom: number): number {
  return studentTCdf(-t, degreesOfFreedom);
}

/** Student t quantile for p in (0, 1). */
export function studentTQuantile(p: number, degreesOfFreedom: number): number {
  assertDegreesOfFreedom(degreesOfFreedom);
  invariant(p > 0 && p < 1, `studentTQuantile needs p in (0, 1), got ${p}`);
  if (degreesOfFreedom === Infinity) return normalQuantile(p);
  if (p === 0.5) return 0;
  const tail = Math.min(p, 1 - p);
  const sign = p < 0.5 ? -1 : 1;
  if (degreesOfFreedom === 1) return sign / Math.tan(Math.PI * tail);
  if (degreesOfFreedom === 2) return sign * Math.sqrt(1 / (2 * tail * (1 - tail)) - 2);
  return sign * upperTailQuantile(tail, degreesOfFreedom);
}

/** The t > 0 with P(T > t) = tail: Newton on ln P(T > t), from the Cornish–Fisher start (A&S 26.7.5). */
function upperTailQuantile(tail: number, nu: number): number {
  const z = -normalQuantile(tail);
  const z3 = z * z * z;
  let t = z + (z3 + z) / (4 * nu) + (5 * z3 * z * z + 16 * z3 + 3 * z) / (96 * nu * nu);
  if (!(t > 0) || !Number.isFinite(t)) t = z;
  const logTail = Math.log(tail);
  let best = { t, residual: Infinity };
  let previousChange = Infinity;
  for (let i = 0; i < quantileIterationsMax; i += 1) {
    const survival = studentTSf(t, nu);
    const residual = Math.log(survival) - logTail;
    if (Math.abs(residual) < best.residual) best = { t, residual: Math.abs(residual) };
    const step = (residual * survival) / studentTPdf(t, nu);
    const next = t + step > 0 ? t + step : t / 2;
    const change = Math.abs(next - t);
    if (change <= 1e-15 * next) return next;
    // Past ν ≈ 1e5 the tail itself is only good to about 1e-10 (see the note on studentTCdf), so
    // Newton's steps stop shrinking at that noise: the best point seen is the answer.
    if (change >= previousChange && change <= 1e-8 * next) return best.t;
    previousChange = change;
    t = next;
  }
  invariant(false, `studentTQuantile did not converge (tail ${tail}, ν ${nu})`);
}

/** Chi-square survival function P(X > x) with k degrees of freedom: Q(k/2, x/2). */
export function chiSquareSf(x: number, degreesOfFreedom: number): number {
  invariant(degreesOfFreedom > 0, `chi-square needs positive degrees of freedom, got ${degreesOfFreedom}`);
  invariant(x >= 0, `chiSquareSf needs x >= 0, got ${x}`);
  return regularizedGamma(0.5 * degreesOfFreedom, 0.5 * x).upper;
}
