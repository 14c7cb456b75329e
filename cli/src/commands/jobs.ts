import { positiveInt } from '../args';
import type { CompressionJob, TrainingJob } from '../clients/jobs';
import type { Context } from '../context';
import { EXIT, UsageError, errorLine } from '../errors';
import { formatAge, formatDuration, formatStat, headlineMetric } from '../format';
import { renderTable } from '../table';

const duration = (from: string | null, to: string | null, now: number): string =>
  from ? formatDuration((to ? Date.parse(to) : now) - Date.parse(from)) : '-';

export function trainingRows(jobs: TrainingJob[], now: number): string {
  if (jobs.length === 0) return 'no training jobs\n';
  return renderTable(
    ['job', 'model', 'dataset', 'state', 'attempt', 'queued', 'duration', 'result'],
    jobs.map((j) => {
      let result = '';
      if (j.error) result = `${j.error.code}: ${j.error.message}`;
      else if (j.result) {
        const m = headlineMetric(j.result.metrics);
        result = m ? `${m[0]} ${formatStat(m[1])}` : 'done';
      } else if (j.progress)
        result = Object.entries(j.progress)
          .slice(0, 3)
          .map(([k, v]) => `${k} ${Number.isInteger(v) ? v : formatStat(v)}`)
          .join(', ');
      return [
        j.jobId,
        j.model,
        j.input.dataset,
        j.state,
        j.attempt,
        `${formatAge(j.queuedAt, now)} ago`,
        duration(j.startedAt, j.finishedAt, now),
        result,
      ];
    }),
  );
}

export function compressionRows(jobs: CompressionJob[], now: number): string {
  if (jobs.length === 0) return 'no compression jobs\n';
  return renderTable(
    [
      'job',
      'model',
      'parent',
      'state',
      'variants',
      'recommended',
      'submitted',
      'duration',
      'error',
    ],
    jobs.map((j) => [
      j.jobId,
      j.model,
      j.parentVersion,
      j.state,
      j.variants.length
        ? `${j.variants.filter((v) => v.passed).length}/${j.variants.length} passed`
        : '-',
      j.variants.find((v) => v.recommended)?.variant ?? '-',
      `${formatAge(j.submittedAt, now)} ago`,
      duration(j.startedAt, j.finishedAt, now),
      j.error
        ? `${j.error.code}: ${j.error.message}`
        : j.errors.map((e) => `${e.variant}: ${e.message}`).join('; '),
    ]),
  );
}

/** `mlops jobs [--trainer|--compressor] [--limit N]`: both by default. */
export async function jobs(ctx: Context): Promise<number> {
  const onlyTrainer = ctx.opts.trainer === true;
  const onlyCompressor = ctx.opts.compressor === true;
  if (onlyTrainer && onlyCompressor)
    throw new UsageError('use --trainer or --compressor, not both');
  const limit = positiveInt('--limit', ctx.opts.limit, 1000) ?? 20;
  if (onlyTrainer || onlyCompressor) {
    // One service: its errors are the command's.
    if (onlyTrainer) {
      const list = await ctx.trainer.jobs({ limit });
      ctx.emit({ jobs: list }, () => trainingRows(list, ctx.now()));
    } else {
      const list = await ctx.compressor.jobs({ limit });
      ctx.emit({ jobs: list }, () => compressionRows(list, ctx.now()));
    }
    return EXIT.OK;
  }
  const [t, c] = await Promise.allSettled([
    ctx.trainer.jobs({ limit }),
    ctx.compressor.jobs({ limit }),
  ]);
  const problem = (r: PromiseSettledResult<unknown>) =>
    r.status === 'rejected' ? errorLine(r.reason).replace(/^error: /, '') : undefined;
  ctx.emit(
    {
      trainer: t.status === 'fulfilled' ? { jobs: t.value } : { error: problem(t) },
      compressor: c.status === 'fulfilled' ? { jobs: c.value } : { error: problem(c) },
    },
    () =>
      `training jobs (trainer):\n${t.status === 'fulfilled' ? trainingRows(t.value, ctx.now()) : `${problem(t)}\n`}` +
      `\ncompression jobs (compressor):\n${c.status === 'fulfilled' ? compressionRows(c.value, ctx.now()) : `${problem(c)}\n`}`,
  );
  return t.status === 'fulfilled' && c.status === 'fulfilled' ? EXIT.OK : EXIT.FAILURE;
}
