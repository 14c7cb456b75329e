import { DATASET_NAME } from '@mlops/contracts';
import { oneOf, positiveInt, str } from '../args';
import type { IngestEndpoint } from '../clients/ingestion';
import { feedbackCoercer, recordCoercer } from '../coerce';
import type { Context } from '../context';
import { EXIT, InputError, UsageError, errorLine } from '../errors';
import { formatDuration, formatNumber } from '../format';
import { produce, ProduceStopped, type ProduceSummary } from '../produce';
import { ProgressLine } from '../progress';
import { formatFromPath, readRecords, RECORD_FORMATS } from '../records';
import { renderTable } from '../table';

/** The exit code of a completed run: 0 all accepted, 4 some rejected, 130 interrupted. */
export function summaryExitCode(s: ProduceSummary): number {
  if (s.interrupted) return EXIT.INTERRUPTED;
  return s.rejected > 0 ? EXIT.REJECTED : EXIT.OK;
}

/** `mlops produce` (events) and `mlops feedback` (labels). */
export async function produceCommand(ctx: Context, endpoint: IngestEndpoint): Promise<number> {
  const [file] = ctx.args;
  const dataset = str(ctx.opts.dataset)!;
  if (!DATASET_NAME.test(dataset))
    throw new UsageError(
      `--dataset must be lower case letters, digits, _ or -, not ${JSON.stringify(dataset)}`,
    );
  const batchSize = positiveInt('--batch', ctx.opts.batch, 10_000) ?? 1000;
  const explicit = oneOf('--format', ctx.opts.format, RECORD_FORMATS);
  const format = explicit ?? (file === '-' ? 'auto' : formatFromPath(file));
  if (format === undefined)
    throw new UsageError(
      `cannot tell the format of ${file} from its name: pass --format csv|jsonl|json`,
    );

  // The spec types the CSV cells; fetching it first also says at once when the dataset is unknown.
  const spec = (await ctx.registry.getSpec(dataset)).spec;
  const input = await ctx.io.openInput(file);
  const records = readRecords(input.chunks, {
    source: input.source,
    format,
    coerce: endpoint === 'events' ? recordCoercer(spec) : feedbackCoercer(spec),
  });
  const bar =
    ctx.io.stderrIsTTY && !ctx.json
      ? new ProgressLine(
          (s) => ctx.io.stderr(s),
          ctx.now,
          () => ctx.io.columns(),
        )
      : null;
  try {
    const summary = await produce(records, ctx.ingestion, {
      endpoint,
      dataset,
      batchSize,
      now: ctx.now,
      sleep: ctx.sleep,
      ...(ctx.trapInterrupt ? { signal: ctx.trapInterrupt() } : {}),
      onProgress: (p) =>
        bar?.update(
          {
            ...p,
            ...(input.size ? { fraction: input.bytesRead() / input.size } : {}),
          },
          p.waitingMs !== undefined,
        ),
    });
    bar?.done();
    ctx.emit(summaryJson(summary, input.source), () => renderSummary(summary, input.source));
    return summaryExitCode(summary);
  } catch (err) {
    bar?.done();
    if (!(err instanceof ProduceStopped)) throw err;
    const code = err.cause instanceof InputError ? EXIT.USAGE : EXIT.FAILURE;
    if (ctx.json)
      ctx.io.stdout(
        `${JSON.stringify({ ...summaryJson(err.summary, input.source), stopped: errorLine(err.cause).replace(/^error: /, '') }, null, 2)}\n`,
      );
    else if (err.summary.sent > 0) ctx.io.stderr(renderSummary(err.summary, input.source));
    ctx.io.stderr(`${errorLine(err.cause)}\n`);
    if (err.summary.sent > 0)
      ctx.io.stderr(`the run stopped after ${formatNumber(err.summary.sent)} records\n`);
    return code;
  }
}

export function summaryJson(s: ProduceSummary, source: string) {
  return {
    dataset: s.dataset,
    endpoint: s.endpoint,
    source,
    specVersion: s.specVersion,
    sent: s.sent,
    accepted: s.accepted,
    rejected: s.rejected,
    reasons: s.reasons,
    rejections: s.rejections,
    batches: s.batches,
    retries: s.retries,
    durationMs: Math.round(s.durationMs),
    recordsPerSecond: s.recordsPerSecond,
    interrupted: s.interrupted,
  };
}

/** The end-of-run summary: counts, rejected records by reason, the first rejections. */
export function renderSummary(s: ProduceSummary, source: string): string {
  const what = s.endpoint === 'events' ? 'records' : 'labels';
  const lines = [
    `${s.dataset}${s.specVersion !== null ? ` (spec v${s.specVersion})` : ''}: ${formatNumber(s.sent)} ${what} from ${source} in ${formatDuration(s.durationMs)}, ${formatNumber(s.recordsPerSecond)} ${what}/s${s.interrupted ? ' — interrupted' : ''}`,
    `  accepted  ${formatNumber(s.accepted)}`,
    `  rejected  ${formatNumber(s.rejected)}`,
  ];
  if (s.retries > 0)
    lines.push(`  retries   ${formatNumber(s.retries)} (backpressure or no answer)`);
  let out = lines.join('\n') + '\n';
  const reasons = Object.entries(s.reasons).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  if (reasons.length > 0) out += '\n' + renderTable(['reason', 'records'], reasons);
  if (s.rejections.length > 0) {
    out += `\nfirst rejected ${what}:\n`;
    for (const r of s.rejections.slice(0, 10))
      out += `  line ${r.line}: ${r.reasons.map((x) => `${x.code}${x.field ? ` (${x.field})` : ''}: ${x.message}`).join('; ')}\n`;
  }
  return out;
}
