/**
 * ln Γ and the regularised incomplete gamma functions, for χ² p-values.
 *
 * ln Γ: Lanczos' approximation with Numerical Recipes' (3rd ed., §6.1) g = 671/128, 14-term
 * coefficients, good to ~1e-15 for x > 0. P(a, x) and Q(a, x): the power series when x < a + 1,
 * where it converges fast and Q = 1 − P loses under a digit, else Legendre's continued fraction
 * (modified Lentz), which gives Q itself — so tiny p-values keep their relative accuracy, to
 * ~1e-13 relative down to 1e-300 and for dof up to millions (checked against scipy's `chdtrc`
 * in drift/chi2.spec.ts).
 */

const LANCZOS_G = 5.2421875; // 671 / 128
// Numerical Recipes' coefficients, written as the doubles they round to.
const LANCZOS = [
  57.15623566586292, -59.59796035547549, 14.136097974741746, -0.4919138160976202,
  3.399464998481189e-5, 4.652362892704858e-5, -9.837447530487956e-5, 1.580887032249125e-4,
  -2.1026444172410488e-4, 2.1743961811521265e-4, -1.643181065367639e-4, 8.441822398385275e-5,
  -2.6190838401581408e-5, 3.6899182659531625e-6,
];
// √(2π) as Numerical Recipes rounds it (with its coefficients, not Math.sqrt(2 * Math.PI)).
const SQRT_2PI = 2.5066282746310007;

/** ln Γ(x) for x > 0; NaN otherwise. */
export function lnGamma(x: number): number {
  if (!(x > 0)) return NaN;
  if (x === Infinity) return Infinity;
  let y = x;
  const t = x + LANCZOS_G;
  let series = 0.9999999999999971;
  for (const c of LANCZOS) {
    y += 1;
    series += c / y;
  }
  return (x + 0.5) * Math.log(t) - t + Math.log((SQRT_2PI * series) / x);
}

const EPS = Number.EPSILON;
// Stands in for a zero denominator in Lentz's method.
const TINY = 1e-300;
const MAX_ITERATIONS = 1_000_000;
/** From this a on, the prefactor uses Stirling's series (see `prefactor`). */
const STIRLING_FROM = 10;

/** ln(1 + t) − t for t > −1, without cancellation near 0. */
function log1pmx(t: number): number {
  if (Math.abs(t) >= 0.5) return Math.log1p(t) - t;
  // ln(1 + t) = 2 artanh(u), u = t/(2 + t), |u| ≤ 1/3; and 2u − t = −t·u.
  const u = t / (2 + t);
  const u2 = u * u;
  let power = u;
  let sum = 0;
  for (let k = 3; ; k += 2) {
    power *= u2;
    const term = power / k;
    sum += term;
    if (Math.abs(term) <= Math.abs(sum) * EPS * 0.5) break;
  }
  return -t * u + 2 * sum;
}

/** ln Γ(a) − [(a − ½) ln a − a + ln √(2π)] for a ≥ 10: Stirling's series to a⁻¹³. */
function stirlingRemainder(a: number): number {
  const r = 1 / a;
  const r2 = r * r;
  return (
    r *
    (1 / 12 +
      r2 *
        (-1 / 360 +
          r2 * (1 / 1260 + r2 * (-1 / 1680 + r2 * (1 / 1188 + r2 * (-691 / 360360 + r2 / 156))))))
  );
}

/**
 * xᵃ e⁻ˣ / Γ(a). Formed directly from a·ln x, x and ln Γ(a), large terms cancel: ~1e-10
 * relative at a = 5·10⁴, ~1e-9 at 1.5·10⁶. For a ≥ 10 it is √(a/2π)·exp(a·(ln(1 + t) − t) −
 * S(a)) with t = (x − a)/a and S Stirling's remainder, so they are never formed.
 */
function prefactor(a: number, x: number): number {
  if (a < STIRLING_FROM) return Math.exp(a * Math.log(x) - x - lnGamma(a));
  const t = (x - a) / a;
  return Math.sqrt(a / (2 * Math.PI)) * Math.exp(a * log1pmx(t) - stirlingRemainder(a));
}

/** P(a, x) by its series; for x < a + 1. */
function seriesP(a: number, x: number): number {
  let ap = a;
  let term = 1 / a;
  let sum = term;
  for (let i = 0; i < MAX_ITERATIONS; i += 1) {
    ap += 1;
    term *= x / ap;
    sum += term;
    if (Math.abs(term) < Math.abs(sum) * EPS) return sum * prefactor(a, x);
  }
  throw new Error(`incomplete gamma series did not converge for a=${a}, x=${x}`);
}

/** Q(a, x) by its continued fraction (modified Lentz); for x ≥ a + 1. */
function continuedFractionQ(a: number, x: number): number {
  let b = x + 1 - a;
  let c = 1 / TINY;
  let d = 1 / b;
  let h = d;
  for (let i = 1; i < MAX_ITERATIONS; i += 1) {
    const an = -i * (i - a);
    b += 2;
    d = an * d + b;
    if (Math.abs(d) < TINY) d = TINY;
    c = b + an / c;
    if (Math.abs(c) < TINY) c = TINY;
    d = 1 / d;
    const delta = d * c;
    h *= delta;
    if (Math.abs(delta - 1) < EPS) return h * prefactor(a, x);
  }
  throw new Error(`incomplete gamma fraction did not converge for a=${a}, x=${x}`);
}

/** The regularised lower incomplete gamma P(a, x) = γ(a, x) / Γ(a), a > 0, x ≥ 0. */
export function regularizedGammaP(a: number, x: number): number {
  if (!(a > 0) || !(x >= 0)) return NaN;
  if (x === 0) return 0;
  if (x === Infinity) return 1;
  return x < a + 1 ? seriesP(a, x) : 1 - continuedFractionQ(a, x);
}

/** The regularised upper incomplete gamma Q(a, x) = Γ(a, x) / Γ(a) = 1 − P(a, x). */
export function regularizedGammaQ(a: number, x: number): number {
  if (!(a > 0) || !(x >= 0)) return NaN;
  if (x === 0) return 1;
  if (x === Infinity) return 0;
  return x < a + 1 ? 1 - seriesP(a, x) : continuedFractionQ(a, x);
}

/**
 * P(X ≥ x) for X ~ χ²(dof): scipy's `chdtrc(dof, x)` = Q(dof / 2, x / 2). 1 for x ≤ 0, NaN for
 * NaN (a 0/0 statistic stays "undefined").
 */
export function chi2Survival(x: number, dof: number): number {
  if (Number.isNaN(x) || !(dof > 0)) return NaN;
  if (x <= 0) return 1;
  return regularizedGammaQ(dof / 2, x / 2);
}
