import type { DatasetSpec, FieldSpec } from '@mlops/contracts';
import { positiveInt } from '../args';
import type { SpecRecord } from '../clients/registry';
import type { Context } from '../context';
import { EXIT } from '../errors';
import { formatAge, formatTime } from '../format';
import { checkSpec, parseSpecText, sameSpec } from '../spec-file';
import { renderFields, renderTable } from '../table';

/** `mlops specs apply <file>`. */
export async function specsApply(ctx: Context): Promise<number> {
  const [file] = ctx.args;
  const source = file === '-' ? 'stdin' : file;
  const body = parseSpecText(await ctx.io.readText(file), source);
  checkSpec(body, source);
  const name = body.name as string;
  const current = await ctx.registry.findSpec(name);
  const unchanged = current !== null && ctx.opts.force !== true && sameSpec(body, current.spec);
  const record = unchanged ? current : await ctx.registry.createSpec(body);
  const result = {
    name,
    version: record.version,
    previousVersion: current?.version ?? null,
    unchanged,
    createdAt: record.createdAt,
    createdBy: record.createdBy,
  };
  ctx.emit(result, () =>
    unchanged
      ? `spec ${name} unchanged (version ${record.version}; --force registers it again)\n`
      : `spec ${name} registered: version ${record.version}${current ? ` (was ${current.version})` : ' (a new dataset)'}\n`,
  );
  return EXIT.OK;
}

/** `mlops specs get <dataset> [--version N]`. */
export async function specsGet(ctx: Context): Promise<number> {
  const [dataset] = ctx.args;
  const version = positiveInt('--version', ctx.opts.version);
  const record = await ctx.registry.getSpec(dataset, version);
  ctx.emit(record, () => renderSpec(record, ctx.now()));
  return EXIT.OK;
}

/** `mlops specs list`. */
export async function specsList(ctx: Context): Promise<number> {
  const specs = await ctx.registry.listSpecs();
  ctx.emit({ specs }, () =>
    specs.length === 0
      ? 'no dataset specs registered yet (mlops specs apply <file>)\n'
      : renderTable(
          ['dataset', 'version', 'fields', 'model', 'created', 'by'],
          specs.map((s) => [
            s.name,
            s.version,
            s.spec.fields.length,
            modelName(s.spec),
            `${formatAge(s.createdAt, ctx.now())} ago`,
            s.createdBy,
          ]),
        ),
  );
  return EXIT.OK;
}

function modelName(spec: DatasetSpec): string | null {
  const name = (spec.model as { name?: unknown } | undefined)?.name;
  return typeof name === 'string' ? name : null;
}

/** What a field allows, in a few words: "[0, 23] integer", "one of a, b", "binary". */
export function fieldConstraints(f: FieldSpec): string {
  switch (f.type) {
    case 'numeric': {
      const range =
        f.min !== undefined || f.max !== undefined ? `[${f.min ?? '-∞'}, ${f.max ?? '∞'}]` : '';
      return [range, f.integer ? 'integer' : ''].filter(Boolean).join(' ');
    }
    case 'categorical':
      return f.enum ? `one of ${f.enum.join(', ')}` : `≤ ${f.maxLength} chars`;
    case 'text':
      return `${f.minLength}–${f.maxLength} chars`;
    case 'label':
      return f.classes ? `${f.task}: ${f.classes.join(', ')}` : f.task;
    case 'entity_id':
      return `≤ ${f.maxLength} chars`;
    case 'timestamp':
      return f.format;
    case 'boolean':
      return '';
  }
}

export function renderSpec(record: SpecRecord, now: number): string {
  const s = record.spec;
  const sections = (
    ['quality', 'features', 'model', 'training', 'compression', 'serving', 'drift'] as const
  ).filter((k) => s[k] !== undefined);
  let out = renderFields([
    ['dataset', `${record.name} v${record.version}`],
    ['description', s.description],
    [
      'created',
      `${formatTime(record.createdAt)} (${formatAge(record.createdAt, now)} ago) by ${record.createdBy}`,
    ],
    ['unknown fields', s.unknownFields],
    ['coerce', s.coerce ? 'yes' : 'no'],
    ['model', modelName(s)],
    ['sections', sections.join(', ') || 'none'],
  ]);
  out +=
    '\n' +
    renderTable(
      ['field', 'type', 'required', 'allows'],
      s.fields.map((f) => [
        f.name,
        f.type,
        f.required || f.type === 'entity_id',
        fieldConstraints(f),
      ]),
    );
  return out;
}
