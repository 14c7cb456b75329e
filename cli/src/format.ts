/** Numbers, durations and times as the tables print them. Pure. */

const grouped = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });

/** 12345 → "12,345"; fractions keep 4 significant digits (0.012345 → "0.01235"). */
export function formatNumber(n: number | null | undefined): string {
  if (n === null || n === undefined) return '-';
  if (Number.isNaN(n)) return 'NaN';
  if (!Number.isFinite(n)) return n > 0 ? '∞' : '-∞';
  if (Number.isInteger(n)) return grouped.format(n);
  const abs = Math.abs(n);
  if (abs >= 1000) return new Intl.NumberFormat('en-US', { maximumFractionDigits: 1 }).format(n);
  if (abs !== 0 && abs < 1e-3) return formatExp(n);
  return String(Number(n.toPrecision(4)));
}

/** A metric or a statistic: 4 decimals, exponent form below 1e-3 (0 stays "0"). */
export function formatStat(n: number | null | undefined, digits = 4): string {
  if (n === null || n === undefined) return '-';
  if (!Number.isFinite(n)) return formatNumber(n);
  if (n === 0) return '0';
  if (Math.abs(n) < 1e-3) return formatExp(n);
  if (Math.abs(n) >= 1e6) return formatExp(n);
  return n.toFixed(digits);
}

/** A metric: integers grouped (epochs, counts), large values with one decimal, else formatStat. */
export function formatMetric(n: number | null | undefined): string {
  if (n === null || n === undefined) return '-';
  if (Number.isInteger(n) || Math.abs(n) >= 1000) return formatNumber(n);
  return formatStat(n);
}

/** A p-value: "0.0312", or exponent form below 1e-3 ("3.2e-7"); 0 (underflow) → "<1e-300". */
export function formatPValue(p: number | null | undefined): string {
  if (p === null || p === undefined) return '-';
  if (p === 0) return '<1e-300';
  if (p < 1e-3) return formatExp(p);
  return p.toFixed(4);
}

/** Exponent form with `digits` after the point and no "+": 3.2e-7, 1.5e6. */
export function formatExp(n: number, digits = 1): string {
  return n.toExponential(digits).replace('e+', 'e');
}

/** 0.1234 → "12.3%". */
export function formatPercent(share: number | null | undefined, digits = 1): string {
  if (share === null || share === undefined || !Number.isFinite(share)) return '-';
  return `${(share * 100).toFixed(digits)}%`;
}

/** 850 → "850 ms", 2400 → "2.4 s", 192000 → "3m 12s", 3900000 → "1h 05m". */
export function formatDuration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '-';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const s = Math.round(ms / 1000);
  if (s < 3600) return `${Math.floor(s / 60)}m ${String(s % 60).padStart(2, '0')}s`;
  const m = Math.floor(s / 60);
  if (m < 24 * 60) return `${Math.floor(m / 60)}h ${String(m % 60).padStart(2, '0')}m`;
  return `${Math.floor(m / 1440)}d ${String(Math.floor((m % 1440) / 60)).padStart(2, '0')}h`;
}

/** kubectl's AGE: "45s", "12m", "3h", "5d", "2y". Future times (clock skew) → "0s". */
export function formatAge(iso: string | number | null | undefined, now: number): string {
  if (iso === null || iso === undefined) return '-';
  const at = typeof iso === 'number' ? iso : Date.parse(iso);
  if (Number.isNaN(at)) return '-';
  const s = Math.max(0, Math.floor((now - at) / 1000));
  if (s < 120) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 120) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h}h`;
  const d = Math.floor(h / 24);
  if (d < 730) return `${d}d`;
  return `${Math.floor(d / 365)}y`;
}

/** 1536 → "1.5 KiB". */
export function formatBytes(n: number | null | undefined): string {
  if (n === null || n === undefined) return '-';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${v} B` : `${v.toFixed(1)} ${units[u]}`;
}

/** An ISO time without milliseconds: "2026-01-01T10:00:00Z". */
export function formatTime(iso: string | null | undefined): string {
  if (!iso) return '-';
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) return iso;
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** Records per second, "4,166/s". */
export function formatRate(count: number, ms: number): string {
  if (ms <= 0) return '-';
  return `${grouped.format(Math.round((count * 1000) / ms))}/s`;
}

/** An alias map as "production=3 canary=4", production first, then canary, then by name. */
export function formatAliases(aliases: Record<string, number>): string {
  const rank = (a: string) => (a === 'production' ? 0 : a === 'canary' ? 1 : 2);
  return Object.entries(aliases)
    .sort(([a], [b]) => rank(a) - rank(b) || a.localeCompare(b))
    .map(([a, v]) => `${a}=${v}`)
    .join(' ');
}

/** One line of JSON, for printing a value in a table cell or a message. */
export function compactJson(value: unknown, max = 80): string {
  const s = JSON.stringify(value) ?? 'null';
  return s.length > max ? `${s.slice(0, max - 1)}…` : s;
}

/** The headline metric of a version: its held-out score under the usual names. */
export function headlineMetric(metrics: Record<string, number>): [string, number] | null {
  for (const key of [
    'test_pr_auc',
    'test_roc_auc',
    'test_accuracy',
    'test_f1',
    'test_r2',
    'test_rmse',
    'val_pr_auc',
    'val_accuracy',
    'val_r2',
  ])
    if (typeof metrics[key] === 'number') return [key, metrics[key]];
  const first = Object.entries(metrics)[0];
  return first ?? null;
}
