/**
 * The distribution of the two-sided one-sample Kolmogorov–Smirnov statistic D_n, as
 * scipy.stats.kstwo computes it (scipy/stats/_ksstats.py, Simard & L'Ecuyer 2011): the exact
 * Durbin matrix (Marsaglia–Tsang–Wang), Pomeranz's recursion, the Pelz–Good expansion and
 * twice Smirnov's one-sided tail, each where scipy uses it. ks_2samp's asymptotic p-value is
 * kstwo.sf(d, round(m·n / (m + n))), so the regimes are reproduced branch for branch.
 *
 * Precision against scipy 1.17 (the spec's grid): within 1e-11 relative. scipy evaluates the
 * one-sided Smirnov sum in double-double arithmetic; here each term is a logarithm (exact
 * n·x, log1p where 1 − x − v/n is near 1) and the binomial a mantissa with a binary exponent,
 * which is good to ~n·1e-16 relative — 1e-11 at n = 100,000.
 */

// scipy's rescaling constants (_ksstats.py): 2^128 and 2^-128.
const E128 = 128;
const EP128 = 2 ** 128;
const EM128 = 2 ** -128;
const SQRT_2PI = Math.sqrt(2 * Math.PI);
const LOG_2PI = Math.log(2 * Math.PI);
const MIN_LOG = -708;
const SQRT3 = Math.sqrt(3);
const PI_SQUARED = Math.PI ** 2;
const PI_FOUR = Math.PI ** 4;
const PI_SIX = Math.PI ** 6;
// B_{2j} / (2j(2j − 1)) for j = 8, …, 1: the Stirling series, highest power first (scipy's
// 20-digit literals, written as the doubles they round to).
const STIRLING_COEFFS = [
  -0.029550653594771242, 0.00641025641025641, -0.0019175269175269176, 0.0008417508417508417,
  -0.0005952380952380953, 0.0007936507936507937, -0.002777777777777778, 0.08333333333333333,
];

const clip01 = (p: number): number => Math.min(1, Math.max(0, p));

/**
 * P(D_n ≥ d): scipy.stats.kstwo.sf(d, n). 1 at or below the support's lower end 0.5/n, 0 at
 * d ≥ 1; NaN when n is not a positive integer (scipy's `badvalue`) or d is NaN.
 */
export function kstwoSurvival(d: number, n: number): number {
  if (Number.isNaN(d) || !(n >= 1) || !Number.isInteger(n)) return NaN;
  if (d <= 0.5 / n) return 1;
  if (d >= 1) return 0;
  return kolmogn(n, d, false);
}

/** P(D_n ≤ d): scipy.stats.kstwo.cdf(d, n). */
export function kstwoCdf(d: number, n: number): number {
  if (Number.isNaN(d) || !(n >= 1) || !Number.isInteger(n)) return NaN;
  if (d <= 0.5 / n) return 0;
  if (d >= 1) return 1;
  return kolmogn(n, d, true);
}

/** scipy's `_kolmogn`: the CDF or the SF, whichever `cdf` asks for, branch for branch. */
function kolmogn(n: number, x: number, cdf: boolean): number {
  const pick = (cdfProb: number, sfProb: number): number => clip01(cdf ? cdfProb : sfProb);
  if (x >= 1) return pick(1, 0);
  if (x <= 0) return pick(0, 1);
  const t = n * x;
  if (t <= 1) {
    // Ruben–Gambino: 1/(2n) ≤ x ≤ 1/n.
    if (t <= 0.5) return pick(0, 1);
    let prob: number;
    if (n <= 140) {
      prob = 1;
      for (let i = 1; i <= n; i += 1) prob *= i * (1 / n) * (2 * t - 1);
    } else {
      prob = Math.exp(logFactorialOverPower(n) + n * Math.log(2 * t - 1));
    }
    return pick(prob, 1 - prob);
  }
  if (t >= n - 1) {
    const prob = 2 * (1 - x) ** n;
    return pick(1 - prob, prob);
  }
  if (x >= 0.5) {
    const prob = 2 * smirnovSurvival(n, x);
    return pick(1 - prob, prob);
  }
  const nxSquared = t * x;
  if (n <= 140) {
    if (nxSquared <= 0.754693) {
      const prob = durbinMatrixCdf(n, x);
      return pick(prob, 1 - prob);
    }
    if (nxSquared <= 4) {
      const prob = pomeranzCdf(n, x);
      return pick(prob, 1 - prob);
    }
    const prob = 2 * smirnovSurvival(n, x);
    return pick(1 - prob, prob);
  }
  // The CDF and the SF have different cut-offs on n·x².
  if (!cdf) {
    if (nxSquared >= 370) return 0;
    if (nxSquared >= 2.2) return clip01(2 * smirnovSurvival(n, x));
  }
  let cdfProb: number;
  if (nxSquared >= 18) cdfProb = 1;
  else if (n <= 100_000 && n * x ** 1.5 <= 1.4) cdfProb = durbinMatrixCdf(n, x);
  else cdfProb = pelzGoodCdf(n, x);
  return pick(cdfProb, 1 - cdfProb);
}

/** ln(n! / nⁿ) by Stirling's series with n·ln n taken out first (no cancellation). */
function logFactorialOverPower(n: number): number {
  const rn = 1 / n;
  let poly = 0;
  for (const c of STIRLING_COEFFS) poly = poly * (rn / n) + c;
  return Math.log(n) / 2 - n + LOG_2PI / 2 + rn * poly;
}

/** x·2^e without overflowing or underflowing on the way (Math has no ldexp). */
function ldexp(x: number, e: number): number {
  let y = x;
  let k = e;
  while (k > 1023) {
    y *= 2 ** 1023;
    k -= 1023;
  }
  while (k < -1022) {
    y *= 2 ** -1022;
    k += 1022;
  }
  return y * 2 ** k;
}

/** C = A·B for m×m row-major matrices. */
function matmul(a: Float64Array, b: Float64Array, m: number): Float64Array {
  const c = new Float64Array(m * m);
  for (let i = 0; i < m; i += 1) {
    for (let k = 0; k < m; k += 1) {
      const aik = a[i * m + k];
      if (aik === 0) continue;
      for (let j = 0; j < m; j += 1) c[i * m + j] += aik * b[k * m + j];
    }
  }
  return c;
}

/**
 * P(D_n ≤ d) by Durbin's matrix, computed as Marsaglia, Tsang & Wang (2003) do: the k-th
 * diagonal entry of H^n times n!/nⁿ, with binary rescaling. O(m³ log n), m = 2⌈nd⌉ − 1.
 */
function durbinMatrixCdf(n: number, d: number): number {
  if (d >= 1) return 1;
  const nd = n * d;
  if (nd <= 0.5) return 0;
  const k = Math.ceil(nd);
  const h = k - nd;
  const m = 2 * k - 1;

  const v = new Float64Array(m);
  const w = new Float64Array(m);
  let fac = 1;
  for (let j = 1; j <= m; j += 1) {
    w[j - 1] = fac;
    fac /= j;
    v[j - 1] = (1 - h ** j) * fac;
  }
  const tt = (2 * h - 1 > 0 ? (2 * h - 1) ** m : 0) - 2 * h ** m;
  v[m - 1] = (1 + tt) * fac;

  let H: Float64Array = new Float64Array(m * m);
  for (let i = 1; i < m; i += 1) {
    for (let r = i - 1; r < m; r += 1) H[r * m + i] = w[r - i + 1];
  }
  for (let r = 0; r < m; r += 1) H[r * m] = v[r];
  for (let c = 0; c < m; c += 1) H[(m - 1) * m + c] = v[m - 1 - c];

  let Hpwr: Float64Array = new Float64Array(m * m);
  for (let i = 0; i < m; i += 1) Hpwr[i * m + i] = 1;
  let nn = n;
  let expnt = 0;
  let Hexpnt = 0;
  while (nn > 0) {
    if (nn % 2) {
      Hpwr = matmul(Hpwr, H, m);
      expnt += Hexpnt;
    }
    H = matmul(H, H, m);
    Hexpnt *= 2;
    if (Math.abs(H[(k - 1) * m + (k - 1)]) > EP128) {
      for (let i = 0; i < H.length; i += 1) H[i] /= EP128;
      Hexpnt += E128;
    }
    nn = Math.floor(nn / 2);
  }

  let p = Hpwr[(k - 1) * m + (k - 1)];
  for (let i = 1; i <= n; i += 1) {
    p = (i * p) / n;
    if (Math.abs(p) < EM128) {
      p *= EP128;
      expnt -= E128;
    }
  }
  if (expnt !== 0) p = ldexp(p, expnt);
  return clip01(p);
}

/** scipy's `_pomeranz_compute_j1j2`: the non-zero window of row i. */
function pomeranzWindow(
  i: number,
  n: number,
  ll: number,
  ceilf: number,
  roundf: number,
): [number, number] {
  let j1: number;
  let j2: number;
  if (i === 0) {
    j1 = -ll - ceilf - 1;
    j2 = ll + ceilf - 1;
  } else {
    const half = Math.floor((i + 1) / 2);
    if ((i + 1) % 2 === 0) {
      if (half === n + 1) {
        j1 = n - ll - ceilf - 1;
        j2 = n + ll + ceilf - 1;
      } else {
        j1 = half - 1 - ll - roundf - 1;
        j2 = half + ll - 1 + ceilf - 1;
      }
    } else {
      j1 = half - 1 - ll - 1;
      j2 = half + ll + roundf - 1;
    }
  }
  return [Math.max(j1 + 2, 0), Math.min(j2, n)];
}

/** P(D_n ≤ x) by Pomeranz's recursion (1974), with scipy's two-row, rescaled layout. */
function pomeranzCdf(n: number, x: number): number {
  const t = n * x;
  const ll = Math.floor(t);
  const f = t - ll;
  const g = Math.min(f, 1 - f);
  const ceilf = f > 0 ? 1 : 0;
  const roundf = f > 0.5 ? 1 : 0;
  const npwrs = 2 * (ll + 1);
  // (g/n)^m/m!, (2g/n)^m/m!, ((1−2g)/n)^m/m!: Poisson probabilities without the normaliser.
  const gpower = new Float64Array(npwrs);
  const twogpower = new Float64Array(npwrs);
  const onem2gpower = new Float64Array(npwrs);
  gpower[0] = twogpower[0] = onem2gpower[0] = 1;
  const gOverN = g / n;
  const twoGOverN = (2 * g) / n;
  const oneMinusTwoGOverN = (1 - 2 * g) / n;
  for (let m = 1; m < npwrs; m += 1) {
    gpower[m] = (gpower[m - 1] * gOverN) / m;
    twogpower[m] = (twogpower[m - 1] * twoGOverN) / m;
    onem2gpower[m] = (onem2gpower[m - 1] * oneMinusTwoGOverN) / m;
  }

  let V0 = new Float64Array(npwrs);
  let V1 = new Float64Array(npwrs);
  V1[0] = 1;
  let V0s = 0;
  let V1s = 0;
  let expnt = 0;
  let [j1, j2] = pomeranzWindow(0, n, ll, ceilf, roundf);
  for (let i = 1; i < 2 * n + 2; i += 1) {
    const k1 = j1;
    [V0, V1] = [V1, V0];
    [V0s, V1s] = [V1s, V0s];
    V1.fill(0);
    [j1, j2] = pomeranzWindow(i, n, ll, ceilf, roundf);
    const pwrs = i === 1 || i === 2 * n + 1 ? gpower : i % 2 ? twogpower : onem2gpower;
    const ln2 = j2 - k1 + 1;
    if (ln2 > 0) {
      // Entries conv_start … conv_start + conv_len − 1 of the full convolution of
      // V0[k1 − V0s, +ln2) with pwrs[0, ln2).
      const base = k1 - V0s;
      const aLen = Math.min(ln2, npwrs - base);
      const convStart = j1 - k1;
      const convLen = j2 - j1 + 1;
      let max = 0;
      for (let c = 0; c < convLen; c += 1) {
        const kk = convStart + c;
        let s = 0;
        const lo = Math.max(0, kk - ln2 + 1);
        const hi = Math.min(kk, aLen - 1);
        for (let a = lo; a <= hi; a += 1) s += V0[base + a] * pwrs[kk - a];
        V1[c] = s;
        if (s > max) max = s;
      }
      if (max > 0 && max < EM128) {
        for (let c = 0; c < npwrs; c += 1) V1[c] *= EP128;
        expnt -= E128;
      }
      V1s = V0s + j1 - k1;
    }
  }
  let ans = V1[n - V1s];
  for (let m = 1; m <= n; m += 1) {
    if (Math.abs(ans) > EP128) {
      ans *= EM128;
      expnt += E128;
    }
    ans *= m;
  }
  if (expnt !== 0) ans = ldexp(ans, expnt);
  return clip01(ans);
}

/**
 * The Pelz–Good (1976) approximation to P(D_n ≤ x): the Li-Chien/Korolyuk expansion in powers
 * of 1/√n, each term rewritten through Jacobi's theta identity so that it converges for small z.
 */
function pelzGoodCdf(n: number, x: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const z = Math.sqrt(n) * x;
  const z2 = z ** 2;
  const z3 = z ** 3;
  const z4 = z ** 4;
  const z6 = z ** 6;
  const qlog = -PI_SQUARED / 8 / z2;
  if (qlog < MIN_LOG) return 0;
  let q = Math.exp(qlog);

  const k1a = -z2;
  const k1b = PI_SQUARED / 4;
  const k2a = 6 * z6 + 2 * z4;
  const k2b = ((2 * z4 - 5 * z2) * PI_SQUARED) / 4;
  const k2c = (PI_FOUR * (1 - 2 * z2)) / 16;
  const k3d = (PI_SIX * (5 - 30 * z2)) / 64;
  const k3c = (PI_FOUR * (-60 * z2 + 212 * z4)) / 16;
  const k3b = (PI_SQUARED * (135 * z4 - 96 * z6)) / 4;
  const k3a = -30 * z6 - 90 * z ** 8;

  // Horner over odd m = 2k − 1 of Σ c_k q^(m²).
  const K = [0, 0, 0, 0];
  const maxk = Math.ceil((16 * z) / Math.PI);
  for (let k = maxk; k > 0; k -= 1) {
    const m = 2 * k - 1;
    const m2 = m ** 2;
    const m4 = m ** 4;
    const m6 = m ** 6;
    const qpower = q ** (8 * k);
    const coeffs = [
      1,
      k1a + k1b * m2,
      k2a + k2b * m2 + k2c * m4,
      k3a + k3b * m2 + k3c * m4 + k3d * m6,
    ];
    for (let i = 0; i < 4; i += 1) K[i] = K[i] * qpower + coeffs[i];
  }
  const divisors = [z, 6 * z4, 72 * z ** 7, 6480 * z ** 10];
  for (let i = 0; i < 4; i += 1) K[i] = (K[i] * q * SQRT_2PI) / divisors[i];

  // The remaining sums over all integers k, for K2 and K3.
  q = Math.exp(-PI_SQUARED / 2 / z2);
  const sqrt3z = SQRT3 * z;
  let k2extra = 0;
  let k3extra = 0;
  for (let k = maxk; k > 0; k -= 1) {
    const k2 = k * k;
    const qk = q ** k2;
    const kpi = Math.PI * k;
    k2extra += k2 * qk;
    k3extra += (sqrt3z + kpi) * (sqrt3z - kpi) * k2 * qk;
  }
  K[2] += k2extra * ((PI_SQUARED * SQRT_2PI) / (-36 * z3));
  K[3] += k3extra * ((PI_SQUARED * SQRT_2PI) / (216 * z6));
  for (let i = 1; i < 4; i += 1) K[i] /= (n * 1.0) ** (i / 2);
  return K[0] + K[1] + K[2] + K[3];
}

/** n·x as an unevaluated sum hi + lo (Dekker's product; n is an integer below 2^31). */
function exactProduct(n: number, x: number): [number, number] {
  const hi = n * x;
  const split = 134217729; // 2^27 + 1
  const split1 = (a: number): [number, number] => {
    const c = split * a;
    const big = c - (c - a);
    return [big, a - big];
  };
  const [nh, nl] = split1(n);
  const [xh, xl] = split1(x);
  const lo = nh * xh - hi + nh * xl + nl * xh + nl * xl;
  return [hi, lo];
}

/**
 * P(D⁺_n ≥ x), Smirnov's one-sided tail, by the Birnbaum–Tingey sum over its lower terms, as
 * xsf's `_smirnov` does for every (n, x) that kstwo passes (x ≥ 0.5, or n·x² above 2.2 or 4):
 * there its upper-sum and x ≤ 1/n branches are never taken, so they are not ported.
 */
function smirnovSurvival(n: number, x: number): number {
  if (n === 1) return 1 - x;
  if (x === 0) return 1;
  if (x === 1) return 0;
  // floor(n·x) and its fractional part, exactly (xsf's modNX in double-double).
  const [nxHi, nxLo] = exactProduct(n, x);
  let nxfl = Math.floor(nxHi);
  if (nxfl === nxHi && nxLo < 0) nxfl -= 1;
  let alpha = nxHi - nxfl + nxLo;
  if (alpha === 1) {
    nxfl += 1;
    alpha = 0;
  }
  let n1mxfl = n - nxfl - (alpha === 0 ? 0 : 1);
  if (alpha === 0) n1mxfl -= 1;
  if (-2 * n * x * x < -745.1332191019412) return 0;
  if (nxfl >= n - 1) return Math.exp(n * Math.log1p(-x));
  if (n > 1_000_000) {
    // xsf's approximation for very large n: p ≈ exp(−(6nx + 1)² / 18n).
    const logp = -((6 * n * x + 1) ** 2) / 18 / n;
    return logp < -Math.LN2 ? Math.exp(logp) : 1 + Math.expm1(logp);
  }

  // Σ_{v=0}^{⌊n(1−x)⌋} C(n, v) x (x + v/n)^(v−1) (1 − x − v/n)^(n−v); the v = 0 term is (1 − x)^n.
  const nTerms = n1mxfl + 1;
  const vmid = Math.floor(n / 2);
  let sum = Math.exp(n * Math.log1p(-x)) / x;
  // C(n, v) = mantissa · 2^exponent, updated by the ratio (n − v)/(v + 1).
  let cMan = n;
  let cExp = 0;
  for (let v = 1; v < nTerms; v += 1) {
    const t1x = (v + nxHi + nxLo) / n; // x + v/n
    const log1 = Math.log(t1x);
    const log2 = t1x < 0.5 ? Math.log1p(-t1x) : Math.log((n - v - nxHi - nxLo) / n);
    const a = Math.exp(Math.log(cMan) + cExp * Math.LN2 + (v - 1) * log1 + (n - v) * log2);
    if (Number.isFinite(a) && a !== 0) sum += a;
    if (a !== 0) {
      if (4 * (nTerms - v) * Math.abs(a) < Number.EPSILON * sum && v !== nTerms - 1) break;
    } else if (v > vmid) {
      break;
    }
    cMan *= (n - v) / (v + 1);
    // Rescale by a power of two (exact) so that the mantissa never overflows or underflows.
    if (cMan > 2 ** 512) {
      cMan *= 2 ** -512;
      cExp += 512;
    } else if (cMan < 2 ** -512) {
      cMan *= 2 ** 512;
      cExp -= 512;
    }
  }
  return clip01(x * sum);
}
