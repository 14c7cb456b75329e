import { SERVICES } from '../args';
import { readiness, type Readiness } from '../clients/health';
import type { ModelInfo } from '../clients/registry';
import type { Context } from '../context';
import { EXIT, errorLine } from '../errors';
import { formatAge, formatAliases } from '../format';
import { renderTable } from '../table';

/** `mlops status`: every service's /health/ready, then the registry's models. */
export async function status(ctx: Context): Promise<number> {
  const checks = await Promise.all(
    SERVICES.map((s) => readiness(s.service, ctx.globals.urls[s.service], ctx.http, ctx.now)),
  );
  const registryUp = checks.find((c) => c.service === 'registry')!.state !== 'down';
  let models: ModelInfo[] | null = null;
  let modelsError: string | null = null;
  if (registryUp) {
    try {
      models = await ctx.registry.listModels();
    } catch (err) {
      modelsError = errorLine(err).replace(/^error: /, '');
    }
  } else modelsError = 'the registry is down';
  const ready = checks.every((c) => c.state === 'ready');
  ctx.emit(
    {
      ready,
      services: checks,
      models: models?.map((m) => ({
        name: m.name,
        latestVersion: m.latestVersion,
        aliases: m.aliases,
        updatedAt: m.updatedAt,
      })),
      ...(modelsError ? { modelsError } : {}),
    },
    () => renderStatus(checks, models, modelsError, ctx.now()),
  );
  return ready ? EXIT.OK : EXIT.FAILURE;
}

export function renderStatus(
  checks: Readiness[],
  models: ModelInfo[] | null,
  modelsError: string | null,
  now: number,
): string {
  const label = { ready: 'ready', not_ready: 'NOT READY', down: 'DOWN' } as const;
  let out = renderTable(
    ['service', 'url', 'status', { header: 'latency', align: 'right' }, 'detail'],
    checks.map((c) => [
      c.service,
      c.url,
      label[c.state],
      c.latencyMs === null ? '-' : `${Math.round(c.latencyMs)} ms`,
      c.detail,
    ]),
  );
  const up = checks.filter((c) => c.state === 'ready').length;
  out += `\n${up} of ${checks.length} services ready\n\n`;
  if (models === null) out += `models: ${modelsError ?? 'unknown'}\n`;
  else if (models.length === 0) out += 'no models registered yet\n';
  else
    out += renderTable(
      ['model', 'latest', 'aliases', 'updated'],
      models.map((m) => [
        m.name,
        m.latestVersion,
        formatAliases(m.aliases) || '-',
        `${formatAge(m.updatedAt, now)} ago`,
      ]),
    );
  return out;
}
