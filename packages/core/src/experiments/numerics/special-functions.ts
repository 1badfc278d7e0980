import { invariant } from '../../invariant';

/**
 * The special functions the A/B statistics rest on: log-gamma, the regularized incomplete gamma and
 * beta functions. Written after Numerical Recipes (3rd ed., §6.1, §6.2, §6.4: Lanczos log-gamma,
 * series and Lentz continued fractions), with two changes for accuracy at the sample sizes
 * experiments reach: log-beta of a large and a small argument goes through a Stirling difference
 * (no cancellation between two huge log-gammas), and callers pass the complement 1 - x themselves
 * so a probability near 1 keeps its digits.
 */

/** Iterations a series or continued fraction may take before we call it a bug: convergence takes O(sqrt(max(a, b))). */
export const specialFunctionIterationsMax = 100_000;
const epsilon = Number.EPSILON;
const tiny = 1e-300;
const logSmallestDouble = Math.log(Number.MIN_VALUE) - 10;

// Lanczos, g = 7, n = 9 (relative error about 2e-15 for positive arguments).
const lanczosG = 7;
const lanczosCoefficients = [
  0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
  12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
];
const halfLogTwoPi = 0.5 * Math.log(2 * Math.PI);

/** ln Γ(x) for x > 0. */
export function logGamma(x: number): number {
  invariant(x > 0 && Number.isFinite(x), `logGamma needs a positive finite argument, got ${x}`);
  if (x < 0.5) {
    // Reflection: Γ(x) Γ(1 - x) = π / sin(πx).
    return Math.log(Math.PI / Math.sin(Math.PI * x)) - logGamma(1 - x);
  }
  if (x === 1 || x === 2) return 0;
  if (x >= 20) return stirlingLogGamma(x);
  const z = x - 1;
  let sum = lanczosCoefficients[0] as number;
  for (let i = 1; i < lanczosG + 2; i += 1) sum += (lanczosCoefficients[i] as number) / (z + i);
  const t = z + lanczosG + 0.5;
  return halfLogTwoPi + (z + 0.5) * Math.log(t) - t + Math.log(sum);
}

/** The remainder of Stirling's series, ln Γ(x) - [(x - 1/2) ln x - x + ln √(2π)], for x >= 20. */
function stirlingCorrection(x: number): number {
  const inverseSquare = 1 / (x * x);
  // Bernoulli terms B_2k / (2k (2k - 1) x^(2k - 1)); at x >= 20 the next term is below 1e-16 of the result.
  return (
    (1 / 12 -
      inverseSquare *
        (1 / 360 - inverseSquare * (1 / 1260 - inverseSquare * (1 / 1680 - inverseSquare * (1 / 1188))))) /
    x
  );
}

function stirlingLogGamma(x: number): number {
  return (x - 0.5) * Math.log(x) - x + halfLogTwoPi + stirlingCorrection(x);
}

/** ln B(a, b) = ln Γ(a) + ln Γ(b) - ln Γ(a + b), accurate when one argument is huge (a t-test on a million units). */
export function logBeta(a: number, b: number): number {
  invariant(a > 0 && b > 0, `logBeta needs positive arguments, got ${a} and ${b}`);
  const large = Math.max(a, b);
  const small = Math.min(a, b);
  if (large < 20) return logGamma(a) + logGamma(b) - logGamma(a + b);
  if (small >= 20) {
    // Both large: Stirling for all three, with the big terms combined before they cancel.
    const sum = a + b;
    return (
      halfLogTwoPi -
      0.5 * Math.log(sum) +
      (a - 0.5) * Math.log(a / sum) +
      (b - 0.5) * Math.log(b / sum) +
      stirlingCorrection(a) +
      stirlingCorrection(b) -
      stirlingCorrection(sum)
    );
  }
  // ln Γ(large) - ln Γ(large + small) without forming either: -(L - 1/2) log1p(s/L) - s ln(L + s) + s + corrections.
  const sum = large + small;
  const difference =
    -(large - 0.5) * Math.log1p(small / large) -
    small * Math.log(sum) +
    small +
    stirlingCorrection(large) -
    stirlingCorrection(sum);
  return logGamma(small) + difference;
}

/** ln Γ(x + 1/2) - ln Γ(x), accurate for large x (the t density's constant). */
export function logGammaHalfStep(x: number): number {
  return -logBeta(x, 0.5) + logGamma(0.5);
}

/**
 * Regularized incomplete gamma functions P(a, x) and Q(a, x) = 1 - P(a, x), each computed directly
 * (never as one minus the other) so a tiny tail keeps its relative precision.
 */
export function regularizedGamma(a: number, x: number): { lower: number; upper: number } {
  invariant(a > 0 && Number.isFinite(a), `regularizedGamma needs a positive shape, got ${a}`);
  invariant(x >= 0 && !Number.isNaN(x), `regularizedGamma needs x >= 0, got ${x}`);
  if (x === 0) return { lower: 0, upper: 1 };
  if (x === Infinity) return { lower: 1, upper: 0 };
  const logPrefactor = a * Math.log(x) - x - logGamma(a);
  // Past this the upper tail is below the smallest double (and x + 2 may round back to x).
  if (x > a + 1 && logPrefactor < logSmallestDouble) return { lower: 1, upper: 0 };
  if (x < a + 1) {
    const lower = gammaSeries(a, x, logPrefactor);
    return { lower, upper: 1 - lower };
  }
  const upper = gammaContinuedFraction(a, x, logPrefactor);
  return { lower: 1 - upper, upper };
}

function gammaSeries(a: number, x: number, logPrefactor: number): number {
  let term = 1 / a;
  let sum = term;
  for (let n = 1; n <= specialFunctionIterationsMax; n += 1) {
    term *= x / (a + n);
    sum += term;
    if (Math.abs(term) <= Math.abs(sum) * epsilon) return Math.min(1, sum * Math.exp(logPrefactor));
  }
  invariant(false, `incomplete gamma series did not converge (a ${a}, x ${x})`);
}

function gammaContinuedFraction(a: number, x: number, logPrefactor: number): number {
  // Modified Lentz for Q(a, x) = e^(-x) x^a / Γ(a) · 1 / (x + 1 - a - 1·(1 - a) / (x + 3 - a - ...)).
  let b = x + 1 - a;
  let c = 1 / tiny;
  let d = 1 / b;
  let h = d;
  for (let i = 1; i <= specialFunctionIterationsMax; i += 1) {
    const an = -i * (i - a);
    b += 2;
    d = an * d + b;
    if (Math.abs(d) < tiny) d = tiny;
    c = b + an / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const delta = d * c;
    h *= delta;
    if (Math.abs(delta - 1) <= epsilon) return Math.min(1, Math.exp(logPrefactor) * h);
  }
  invariant(false, `incomplete gamma continued fraction did not converge (a ${a}, x ${x})`);
}

/**
 * Regularized incomplete beta I_x(a, b). Pass `complement` = 1 - x when you can compute it more
 * accurately than the subtraction (for the t distribution: t² / (ν + t²) beside ν / (ν + t²)).
 */
export function regularizedBeta(x: number, a: number, b: number, complement: number = 1 - x): number {
  invariant(a > 0 && b > 0, `regularizedBeta needs positive shapes, got ${a} and ${b}`);
  invariant(x >= 0 && x <= 1 && complement >= 0 && complement <= 1, `regularizedBeta needs x in [0, 1], got ${x}`);
  if (x === 0) return 0;
  if (complement === 0) return 1;
  if (x < (a + 1) / (a + b + 2)) return betaTail(x, complement, a, b);
  return 1 - betaTail(complement, x, b, a);
}

/** I_x(a, b) through its continued fraction, valid (fast) for x < (a + 1) / (a + b + 2). */
function betaTail(x: number, complement: number, a: number, b: number): number {
  const logX = x > 0.5 ? Math.log1p(-complement) : Math.log(x);
  const logComplement = complement > 0.5 ? Math.log1p(-x) : Math.log(complement);
  const logPrefactor = a * logX + b * logComplement - logBeta(a, b);
  return Math.min(1, (Math.exp(logPrefactor) * betaContinuedFraction(x, complement, a, b)) / a);
}

function betaContinuedFraction(x: number, complement: number, a: number, b: number): number {
  const qab = a + b;
  const qap = a + 1;
  const qam = a - 1;
  let c = 1;
  // 1 - (a + b) x / (a + 1), written so that x near 1 (a large) does not cancel away its digits.
  let d = x > 0.5 ? (1 - b + qab * complement) / qap : 1 - (qab * x) / qap;
  if (Math.abs(d) < tiny) d = tiny;
  d = 1 / d;
  let h = d;
  for (let m = 1; m <= specialFunctionIterationsMax; m += 1) {
    const m2 = 2 * m;
    let aa = (m * (b - m) * x) / ((qam + m2) * (a + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    h *= d * c;
    aa = (-(a + m) * (qab + m) * x) / ((a + m2) * (qap + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const delta = d * c;
    h *= delta;
    if (Math.abs(delta - 1) <= epsilon) return h;
  }
  invariant(false, `incomplete beta continued fraction did not converge (x ${x}, a ${a}, b ${b})`);
}
