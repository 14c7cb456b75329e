import { oneOf, positiveInt } from '../args';
import type {
  ColumnDrift,
  DriftOverview,
  DriftReport,
  PredictionDriftReport,
} from '../clients/drift';
import type { Context } from '../context';
import { CliError, EXIT } from '../errors';
import {
  formatAge,
  formatNumber,
  formatPercent,
  formatPValue,
  formatStat,
  formatTime,
} from '../format';
import { renderFields, renderTable } from '../table';

/** `mlops drift report <model> [--version N] [--kind K]`; the version defaults to production's. */
export async function driftReport(ctx: Context): Promise<number> {
  const [model] = ctx.args;
  const kind = oneOf('--kind', ctx.opts.kind, ['window', 'features', 'performance'] as const);
  let version = positiveInt('--version', ctx.opts.version);
  if (version === undefined) {
    const aliases = await ctx.registry.getAliases(model);
    version = aliases.production;
    if (version === undefined)
      throw new CliError(`${model} has no production alias: pass --version N`, EXIT.NOT_FOUND);
  }
  const report = await ctx.drift.report(model, version, kind);
  ctx.emit(report, () => renderDriftReport(report, { onlyDrifted: ctx.opts.drifted === true }));
  return EXIT.OK;
}

function isSkipped(x: unknown): x is { status: 'skipped'; reason: string } {
  return !!x && typeof x === 'object' && (x as { status?: unknown }).status === 'skipped';
}

/** One row per column: name, type, test, statistic, p-value, adjusted, PSI, drift. */
export function columnRow(c: ColumnDrift): (string | boolean)[] {
  if (c.status === 'skipped') return [c.name, '-', '-', '-', '-', '-', '-', `skipped: ${c.reason}`];
  return [
    c.name,
    c.type,
    c.test,
    formatStat(c.statistic),
    formatPValue(c.pvalue),
    formatPValue(c.adjustedPvalue),
    formatStat(c.psi),
    c.drift,
  ];
}

function predictionLine(p: PredictionDriftReport): string {
  if (p.status === 'skipped') return `skipped (${p.reason})`;
  const t = p.test;
  const test =
    t.pvalue !== null
      ? `${t.test} p=${formatPValue(t.pvalue)}`
      : `${t.test} ${formatStat(t.statistic)} (threshold ${formatStat(t.threshold)})`;
  const parts = [`${p.task}, ${formatNumber(p.count)} outputs`, test];
  if (p.task === 'binary') {
    parts.push(`PSI ${formatStat(p.scores.psi)}`);
    parts.push(
      `score mean ${formatStat(p.scores.reference.mean, 3)} → ${formatStat(p.scores.current.mean, 3)}, std ${formatStat(p.scores.reference.std, 3)} → ${formatStat(p.scores.current.std, 3)}`,
    );
    parts.push(
      `positive rate ${formatPercent(p.positiveRate.reference)} → ${formatPercent(p.positiveRate.current)}`,
    );
  } else if (p.task === 'multiclass') {
    parts.push(`PSI ${formatStat(p.confidence.psi)}`);
    parts.push(`largest class-share shift ${formatPercent(p.classes.maxShift)}`);
  } else {
    parts.push(`PSI ${formatStat(p.outputs.psi)}`);
    parts.push(
      `mean ${formatStat(p.outputs.reference.mean, 3)} → ${formatStat(p.outputs.current.mean, 3)}`,
    );
  }
  parts.push(p.alert ? `ALERT (${p.alerts.join(', ')})` : 'no alert');
  return parts.join('; ');
}

export function renderDriftReport(r: DriftReport, opts: { onlyDrifted?: boolean } = {}): string {
  const w = r.window;
  let out = renderFields([
    [
      'model',
      `${r.model} v${r.version}${r.alias ? ` (${r.alias})` : ''}${r.dataset ? `, dataset ${r.dataset}` : ''}`,
    ],
    ['report', `${r.kind} ${r.id}, at ${formatTime(r.at)}`],
    [
      'window',
      `${w.kind} #${w.index}: ${formatNumber(w.events)} events, ${formatTime(w.from)} → ${formatTime(w.to)}`,
    ],
    [
      'traffic',
      r.traffic
        ? `${formatNumber(r.traffic.predictions)} predictions, ${formatNumber(r.traffic.errors)} errors (${formatPercent(r.traffic.errorRate)}), p95 ${r.traffic.p95LatencyMs === null ? '-' : `${formatStat(r.traffic.p95LatencyMs, 1)} ms`}`
        : null,
    ],
    ['alerts', r.alerts.length ? r.alerts.join(', ') : 'none'],
  ]);
  out += '\n';
  const f = r.features;
  if (f === null)
    out += `features: not in this ${r.kind} report${r.kind === 'performance' ? ' (--kind window for the latest window)' : ''}\n`;
  else if (isSkipped(f)) out += `features: skipped (${f.reason})\n`;
  else {
    // Reports of a monitor before fields were counted have none: each column was its own.
    const fields = (f as Partial<typeof f>).fields ?? { tested: f.tested, drifted: f.drifted };
    out += `features: ${fields.drifted.length} of ${fields.tested} fields drifted (${formatPercent(f.driftShare)}; dataset drift at ${formatPercent(f.datasetShare)}: ${f.datasetDrift ? 'YES' : 'no'}); ${f.driftedCount} of ${f.tested} columns, ${formatNumber(f.rows)} rows, correction ${f.correction}\n`;
    out += renderTable(
      [
        'feature',
        'type',
        'test',
        { header: 'statistic', align: 'right' },
        { header: 'p-value', align: 'right' },
        { header: 'adjusted', align: 'right' },
        { header: 'psi', align: 'right' },
        'drift',
      ],
      (opts.onlyDrifted ? f.columns.filter((c) => c.drift) : f.columns).map(columnRow),
    );
  }
  out += '\n';
  const p = r.predictions;
  out += `predictions: ${p === null ? `not in this ${r.kind} report` : isSkipped(p) ? `skipped (${p.reason})` : predictionLine(p)}\n`;
  const perf = r.performance;
  out += `performance: ${
    perf === null
      ? `not in this ${r.kind} report`
      : `${perf.metric} live ${formatStat(perf.live)} vs training ${formatStat(perf.training)}` +
        (perf.dropPct === null
          ? ''
          : perf.dropPct >= 0
            ? `, drop ${perf.dropPct.toFixed(1)}% (alert at ${perf.maxDropPct}%)`
            : `, ${(-perf.dropPct).toFixed(1)}% better`) +
        ` on ${formatNumber(perf.labelled)} labels${perf.alert ? ' — ALERT' : ''}`
  }\n`;
  return out;
}

/** `mlops drift status`. */
export async function driftStatus(ctx: Context): Promise<number> {
  const overview = await ctx.drift.overview();
  ctx.emit(overview, () => renderDriftStatus(overview, ctx.now()));
  return EXIT.OK;
}

export function renderDriftStatus(o: DriftOverview, now: number): string {
  let out =
    o.versions.length === 0
      ? 'no model version has traffic yet\n'
      : renderTable(
          [
            'model',
            'version',
            'alias',
            'predictions',
            'errors',
            'labelled',
            'windows',
            'open',
            'live metric',
          ],
          o.versions.map((v) => [
            v.model,
            v.version,
            v.alias ?? '-',
            v.predictions,
            v.errors,
            v.labelled,
            v.windowsClosed,
            v.openWindow,
            v.lastLive
              ? `${v.lastLive.metric} ${formatStat(v.lastLive.value)} (${formatAge(v.lastLive.at, now)} ago)`
              : '-',
          ]),
        );
  const canaries = Object.entries(o.models).filter(([, m]) => m.canary);
  if (canaries.length > 0) {
    out += '\ncanaries under judgement:\n';
    for (const [name, m] of canaries) {
      const c = m.canary!;
      out += `  ${name}: canary v${c.canary} vs production v${c.production}, since ${formatTime(c.since)}, ${c.decided ? 'decided' : 'judging'}${c.verdict ? `: ${c.verdict.action} (${c.verdict.reason})` : ''}\n`;
    }
  }
  out += `\npending joins: ${formatNumber(o.pending.predictions)} predictions, ${formatNumber(o.pending.labels)} labels\n`;
  return out;
}
