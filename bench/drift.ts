// `npm run bench -- drift`: the time of one feature's drift test at 1k, 10k and 100k rows per
// side (reference and current window the same size), for every statistic the drift monitor
// chooses from (libs/ml/src/drift): two-sample KS ('auto': exact up to 10,000 rows per side as
// scipy, asymptotic beyond), normalised Wasserstein, PSI on ten quantile bins of the reference
// (binning included), and for a categorical feature of 20 categories χ² and Jensen–Shannon on
// the counts (counting included). The samples are normal, the current one shifted by 0.1σ.
// Figures are the median time of REPS calls per run; the ratio ks_100k_ms_per_feature is
// informational (BENCH.md). Then one window as the drift monitor judges it (1,000 rows × 16
// features, featureDrift with its report) against the bare KS tests of its columns:
// window_vs_bare_ks is what the report (histograms, PSI, correction, moments) costs on top.
import {
  binEdges,
  chiSquareTwoSample,
  featureDrift,
  featureReference,
  histogram,
  jensenShannonDistance,
  ksTwoSample,
  normalisedWasserstein,
  psi,
  Rng,
} from '@mlops/ml';
import { intEnv } from './lib/measure';
import { median, Recorder, type BenchResult } from './lib/report';

const RUNS = intEnv('BENCH_RUNS', 3);
const REPS = intEnv('BENCH_DRIFT_REPS', 9);
const SIZES = [1_000, 10_000, 100_000];
const CATEGORIES = 20;
/** The drift monitor's unit of work: a window of 1,000 rows of 16 features. */
const WINDOW_ROWS = 1_000;
const WINDOW_COLUMNS = 16;

const say = (line: string) => process.stdout.write(`[drift] ${line}\n`);

function normal(n: number, shift: number, seed: number): Float64Array {
  const rng = new Rng(seed);
  return Float64Array.from({ length: n }, () => rng.normal() + shift);
}

/** Category indices with skewed shares (category k drawn ∝ 1/(k+1)), shifted by `tilt`. */
function categories(n: number, tilt: number, seed: number): Int32Array {
  const rng = new Rng(seed);
  const weights = Array.from({ length: CATEGORIES }, (_, k) => 1 / (k + 1) + tilt * k);
  const total = weights.reduce((a, b) => a + b, 0);
  const cumulative: number[] = [];
  let acc = 0;
  for (const w of weights) cumulative.push((acc += w / total));
  return Int32Array.from({ length: n }, () => {
    const u = rng.next();
    const k = cumulative.findIndex((c) => u < c);
    return k < 0 ? CATEGORIES - 1 : k;
  });
}

function counts(values: Int32Array): number[] {
  const out = new Array<number>(CATEGORIES).fill(0);
  for (const v of values) out[v]++;
  return out;
}

/** Median ms of `REPS` calls of `fn` (after one warm-up call), and its last result. */
function time<T>(fn: () => T): { ms: number; result: T } {
  let result = fn();
  const times: number[] = [];
  for (let i = 0; i < REPS; i++) {
    const t0 = performance.now();
    result = fn();
    times.push(performance.now() - t0);
  }
  return { ms: median(times), result };
}

export async function run(): Promise<BenchResult> {
  const rec = new Recorder('drift');
  for (let r = 0; r < RUNS; r++) {
    for (const n of SIZES) {
      const ref = normal(n, 0, 100 + r);
      const cur = normal(n, 0.1, 200 + r);
      const refCat = categories(n, 0, 300 + r);
      const curCat = categories(n, 0.002, 400 + r);
      const label = n >= 1000 ? `${n / 1000}k` : String(n);
      const tests: [string, () => number][] = [
        ['ks', () => ksTwoSample(ref, cur).pvalue],
        ['wasserstein', () => normalisedWasserstein(ref, cur)],
        [
          'psi',
          () => {
            const edges = binEdges(ref, 10);
            return psi(histogram(ref, edges), histogram(cur, edges));
          },
        ],
        ['chi2', () => chiSquareTwoSample(counts(refCat), counts(curCat)).pvalue],
        ['jensen_shannon', () => jensenShannonDistance(counts(refCat), counts(curCat))],
      ];
      for (const [name, fn] of tests) {
        const { ms, result } = time(fn);
        rec.add(`${name}_${label}_ms_per_feature`, ms);
        if (r === 0)
          say(
            `${name.padEnd(15)} ${label.padStart(4)} rows/side: ${ms.toFixed(3)} ms (value ${result.toPrecision(4)})`,
          );
      }
      if (r === 0) say(`ks method at ${label}: ${ksTwoSample(ref, cur).method}`);
    }
  }
  // One window as the monitor judges it: featureDrift (KS per column against the reference's
  // 1,000-row sample, BH, PSI, plot-ready histograms) against its baseline, the bare KS tests.
  for (let r = 0; r < RUNS; r++) {
    const rng = new Rng(500 + r);
    const train = Float64Array.from({ length: 5000 * WINDOW_COLUMNS }, () => rng.normal());
    const names = Array.from({ length: WINDOW_COLUMNS }, (_, c) => `f${c}`);
    const reference = featureReference(train, 5000, WINDOW_COLUMNS, names, { seed: r });
    const window = Array.from({ length: WINDOW_ROWS }, () =>
      Array.from({ length: WINDOW_COLUMNS }, (_, c) => rng.normal(c === 0 ? 0.5 : 0)),
    );
    const sample = reference.sample.rows;
    const columns = names.map((_, c) => ({
      ref: Float64Array.from(sample, (row) => row[c] ?? NaN),
      cur: Float64Array.from(window, (row) => row[c]),
    }));
    const whole = time(() => featureDrift(reference, window).driftedCount);
    const bare = time(() => columns.reduce((n, c) => n + ksTwoSample(c.ref, c.cur).pvalue, 0));
    rec.add('window_1k_x16_ms', whole.ms);
    rec.add('bare_ks_1k_x16_ms', bare.ms);
    if (r === 0)
      say(
        `window ${WINDOW_ROWS} rows × ${WINDOW_COLUMNS} features: featureDrift ${whole.ms.toFixed(2)} ms (${whole.result} drifted), bare KS ${bare.ms.toFixed(2)} ms`,
      );
  }
  rec.derive('window_vs_bare_ks', (m) => m('window_1k_x16_ms') / m('bare_ks_1k_x16_ms'));
  rec.derive('ks_100k_ms_per_feature', (m) => m('ks_100k_ms_per_feature'));
  rec.derive('wasserstein_100k_ms_per_feature', (m) => m('wasserstein_100k_ms_per_feature'));
  rec.derive('ks_10k_ms_per_feature', (m) => m('ks_10k_ms_per_feature'));
  rec.note(
    'Reference and current window of the same size, normal with a 0.1σ shift (numeric), 20 skewed categories slightly tilted (categorical). KS "auto" is exact up to 10,000 rows per side (scipy\'s rule) and asymptotic beyond; PSI includes the reference quantile binning, χ² and JS the counting.',
  );
  return rec.result();
}
