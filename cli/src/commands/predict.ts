import { positiveInt, str } from '../args';
import type { PredictResponse } from '../clients/inference';
import type { Context } from '../context';
import { EXIT, InputError, UsageError } from '../errors';
import { formatStat } from '../format';
import { predictPinned, type Prediction } from '../pinned';
import { formatFromPath, readRecords, type SourceRecord } from '../records';
import { renderTable } from '../table';

/** Records of `--record '<json>'`: one object or an array of objects. */
export function recordsFromJson(text: string): SourceRecord[] {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new UsageError(`--record is not valid JSON: ${(err as Error).message}`);
  }
  const list = Array.isArray(value) ? value : [value];
  if (list.length === 0) throw new UsageError('--record holds no records');
  return list.map((record: unknown, i) => {
    if (record === null || typeof record !== 'object' || Array.isArray(record))
      throw new UsageError(`--record: record ${i + 1} is not a JSON object`);
    return { record: record as Record<string, unknown>, line: i + 1 };
  });
}

/** `mlops predict <model> (--record JSON | --file F) [--version N]`. */
export async function predict(ctx: Context): Promise<number> {
  const [model] = ctx.args;
  const record = str(ctx.opts.record);
  const file = str(ctx.opts.file);
  if ((record === undefined) === (file === undefined))
    throw new UsageError('give the records with one of --record or --file');
  const version = positiveInt('--version', ctx.opts.version);
  let records: SourceRecord[];
  if (record !== undefined) records = recordsFromJson(record);
  else {
    const format = file === '-' ? 'auto' : formatFromPath(file!);
    if (format === undefined || format === 'csv')
      throw new UsageError('--file takes JSON records: .jsonl, .ndjson, .json (or - for stdin)');
    const input = await ctx.io.openInput(file!);
    records = [];
    for await (const r of readRecords(input.chunks, { source: input.source, format }))
      records.push(r);
    if (records.length === 0) throw new InputError(`${input.source} holds no records`);
  }

  let predictions: Prediction[];
  if (version !== undefined)
    predictions = await predictPinned(ctx.registry, ctx.inference, model, version, records);
  else {
    predictions = [];
    for (let i = 0; i < records.length; i += 256) {
      const part = records.slice(i, i + 256);
      let res: PredictResponse;
      try {
        res = await ctx.inference.predict(
          model,
          part.map((r) => r.record),
        );
      } catch (err) {
        throw withLines(err, part);
      }
      for (const p of res.predictions)
        predictions.push({
          entityId: p.entityId,
          score: p.score,
          label: p.label,
          version: res.version,
          alias: res.alias,
        });
    }
  }
  ctx.emit({ model, predictions }, () =>
    renderTable(
      [
        'entity',
        { header: 'score', align: 'right' },
        { header: 'label', align: 'left' },
        'version',
        'alias',
      ],
      predictions.map((p) => [p.entityId, formatStat(p.score), p.label, p.version, p.alias ?? '-']),
    ),
  );
  return EXIT.OK;
}

/** A 422 invalid_records names records by their index in the request: say their lines. */
function withLines(err: unknown, part: SourceRecord[]): unknown {
  const details = (
    err as {
      details?: {
        results?: { index: number; reasons: { code: string; field?: string; message: string }[] }[];
      };
    }
  ).details;
  if (!details?.results || !(err instanceof Error)) return err;
  const lines = details.results
    .slice(0, 20)
    .map(
      (r) =>
        `  ${part[r.index] ? `line ${part[r.index].line}` : `record ${r.index}`}: ${r.reasons.map((x) => `${x.code}: ${x.message}`).join('; ')}`,
    );
  err.message = `${err.message}\n${lines.join('\n')}`;
  (err as { details?: unknown }).details = undefined;
  return err;
}
