import { ALIAS_NAME } from '@mlops/contracts';
import { oneOf, positiveInt, str } from '../args';
import type { AliasChange, Decision, ModelInfo, VersionInfo } from '../clients/registry';
import type { Context } from '../context';
import { CliError, EXIT, UsageError } from '../errors';
import {
  compactJson,
  formatAge,
  formatAliases,
  formatBytes,
  formatMetric,
  formatStat,
  formatTime,
  headlineMetric,
} from '../format';
import { renderFields, renderTable } from '../table';

/** `mlops models list`. */
export async function modelsList(ctx: Context): Promise<number> {
  const models = await ctx.registry.listModels();
  ctx.emit({ models }, () =>
    models.length === 0
      ? 'no models registered yet\n'
      : renderTable(
          ['name', 'latest', 'aliases', 'updated'],
          models.map((m) => [
            m.name,
            m.latestVersion,
            formatAliases(m.aliases) || '-',
            `${formatAge(m.updatedAt, ctx.now())} ago`,
          ]),
        ),
  );
  return EXIT.OK;
}

/** `mlops models show <model> [--version N]`: the latest version by default. */
export async function modelsShow(ctx: Context): Promise<number> {
  const [name] = ctx.args;
  const asked = positiveInt('--version', ctx.opts.version);
  const model = await ctx.registry.getModel(name);
  const version = asked ?? model.latestVersion;
  if (version < 1) throw new CliError(`${name} has no versions yet`, EXIT.NOT_FOUND);
  const v = await ctx.registry.getVersion(name, version);
  ctx.emit({ model, version: v }, () => renderVersion(model, v, ctx.now()));
  return EXIT.OK;
}

export function renderVersion(model: ModelInfo, v: VersionInfo, now: number): string {
  const l = v.lineage;
  const trainedOn = l.trainedOn
    .map((r) => `${r.topic ? `${r.topic} ` : ''}p${r.partition} [${r.from}, ${r.to})`)
    .join(', ');
  let out = renderFields([
    ['model', `${v.model} v${v.version}${v.aliases.length ? ` (${v.aliases.join(', ')})` : ''}`],
    ['status', v.status],
    ['description', v.description],
    [
      'created',
      `${formatTime(v.createdAt)} (${formatAge(v.createdAt, now)} ago)${v.creator ? ` by ${v.creator}` : ''}`,
    ],
    [
      'variant',
      v.variant ? `${v.variant}${v.parentVersion ? ` of v${v.parentVersion}` : ''}` : null,
    ],
    [
      'artifact',
      v.artifact
        ? `${v.artifact.uri} (${formatBytes(v.artifact.size)}${v.artifact.format ? `, ${v.artifact.format}` : ''})`
        : null,
    ],
    [
      'dataset',
      l.dataset
        ? `${l.dataset}${l.datasetSpecVersion ? ` (spec v${l.datasetSpecVersion})` : ''}`
        : null,
    ],
    ['featureset', l.featuresetVersion],
    ['source job', l.sourceJob],
    ['trained on', trainedOn || null],
    ['model aliases', formatAliases(model.aliases) || 'none'],
  ]);
  const metrics = Object.entries(v.metrics).sort(([a], [b]) => a.localeCompare(b));
  if (metrics.length > 0)
    out +=
      '\n' +
      renderTable(
        ['metric', { header: 'value', align: 'right' }],
        metrics.map(([k, x]) => [k, formatMetric(x)]),
      );
  const tags = Object.entries(v.tags).sort(([a], [b]) => a.localeCompare(b));
  if (tags.length > 0)
    out +=
      '\n' +
      renderTable(
        ['tag', 'value'],
        tags.map(([k, x]) => [k, x]),
      );
  const params = Object.entries(v.params);
  if (params.length > 0)
    out +=
      '\n' +
      renderTable(
        ['param', 'value'],
        params.map(([k, x]) => [
          k,
          typeof x === 'string' ? x : typeof x === 'number' ? formatMetric(x) : compactJson(x, 100),
        ]),
      );
  return out;
}

/** `mlops models versions <model>`. */
export async function modelsVersions(ctx: Context): Promise<number> {
  const [name] = ctx.args;
  const limit = positiveInt('--limit', ctx.opts.limit, 1000) ?? 50;
  const versions = await ctx.registry.listVersions(name, limit);
  ctx.emit({ model: name, versions }, () =>
    versions.length === 0
      ? `${name} has no versions yet\n`
      : renderTable(
          [
            'version',
            'status',
            'aliases',
            'variant',
            'metric',
            { header: 'value', align: 'right' },
            'created',
          ],
          versions.map((v) => {
            const m = headlineMetric(v.metrics);
            return [
              v.version,
              v.status,
              v.aliases.join(',') || '-',
              v.variant ? `${v.variant} of v${v.parentVersion ?? '?'}` : '-',
              m?.[0] ?? '-',
              m ? formatStat(m[1]) : '-',
              `${formatAge(v.createdAt, ctx.now())} ago`,
            ];
          }),
        ),
  );
  return EXIT.OK;
}

/** "cards: production 3 → 4" and the alias map after it. */
export function renderAliasChange(c: AliasChange): string {
  const to = c.to === null ? '(removed)' : String(c.to);
  const from = c.from === null ? '(none)' : String(c.from);
  const same = c.from === c.to ? ' (unchanged)' : '';
  let line = `${c.model}: ${c.alias} ${from} → ${to}${same}\n`;
  if (c.alias === 'canary' && c.to === null)
    line += '  the canary’s traffic returns to production\n';
  return `${line}  aliases now: ${formatAliases(c.aliases) || 'none'}\n`;
}

async function decide(ctx: Context, decision: Decision): Promise<number> {
  const [name] = ctx.args;
  const change = await ctx.registry.decide(name, decision);
  ctx.emit(change, () => renderAliasChange(change));
  return EXIT.OK;
}

const reasonOf = (ctx: Context, what: string) =>
  str(ctx.opts.reason) ?? `${what} with the mlops CLI`;

/** `mlops models promote <model> [--version N]`: production ← N, else the canary's version. */
export function modelsPromote(ctx: Context): Promise<number> {
  const version = positiveInt('--version', ctx.opts.version);
  return decide(ctx, {
    action: 'promote',
    ...(version !== undefined ? { version } : { alias: 'canary' }),
    reason: reasonOf(ctx, 'promoted'),
  });
}

/** `mlops models rollback <model> [--alias production|canary] [--to N]`. */
export function modelsRollback(ctx: Context): Promise<number> {
  const alias = oneOf('--alias', ctx.opts.alias, ['production', 'canary'] as const) ?? 'production';
  const to = positiveInt('--to', ctx.opts.to);
  return decide(ctx, {
    action: 'rollback',
    alias,
    ...(to !== undefined ? { version: to } : {}),
    reason: reasonOf(ctx, 'rolled back'),
  });
}

/** `mlops models alias <model> <alias> <version>` or `… <alias> --delete`. */
export function modelsAlias(ctx: Context): Promise<number> {
  const [, alias, rawVersion] = ctx.args;
  if (!ALIAS_NAME.test(alias))
    throw new UsageError(
      `an alias is lower case letters, digits, _ or - (starting with a letter), not ${JSON.stringify(alias)}`,
    );
  if (ctx.opts.delete === true) {
    if (rawVersion !== undefined) throw new UsageError('--delete takes no <version>');
    return decide(ctx, { action: 'delete_alias', alias, reason: reasonOf(ctx, 'deleted') });
  }
  if (rawVersion === undefined) throw new UsageError('missing <version> (or pass --delete)');
  const version = positiveInt('<version>', rawVersion)!;
  return decide(ctx, { action: 'set_alias', alias, version, reason: reasonOf(ctx, 'set') });
}
