import { commandUsage, parseCommandLine, type CommandId } from './args';
import { driftReport, driftStatus } from './commands/drift';
import { jobs } from './commands/jobs';
import {
  modelsAlias,
  modelsList,
  modelsPromote,
  modelsRollback,
  modelsShow,
  modelsVersions,
} from './commands/models';
import { predict } from './commands/predict';
import { produceCommand } from './commands/produce';
import { specsApply, specsGet, specsList } from './commands/specs';
import { status } from './commands/status';
import { train } from './commands/train';
import { makeContext, type Context, type Deps } from './context';
import { ServiceError, UsageError, errorLine, exitCodeFor } from './errors';

const HANDLERS: Record<CommandId, (ctx: Context) => Promise<number>> = {
  status,
  'specs apply': specsApply,
  'specs get': specsGet,
  'specs list': specsList,
  produce: (ctx) => produceCommand(ctx, 'events'),
  feedback: (ctx) => produceCommand(ctx, 'feedback'),
  'models list': modelsList,
  'models show': modelsShow,
  'models versions': modelsVersions,
  'models promote': modelsPromote,
  'models rollback': modelsRollback,
  'models alias': modelsAlias,
  predict,
  'drift report': driftReport,
  'drift status': driftStatus,
  train,
  jobs,
};

/** Per-record reasons a 4xx carries in `details.results` or `details.problems`, a few lines. */
export function detailLines(details: unknown, max = 10): string[] {
  const d = details as
    | {
        results?: {
          index: number;
          status?: string;
          reasons?: { code: string; field?: string; message: string }[];
        }[];
        problems?: { index: number; code: string; field?: string; message: string }[];
      }
    | undefined;
  const lines: string[] = [];
  for (const r of (d?.results ?? []).filter((x) => x.reasons?.length))
    lines.push(
      `  record ${r.index}: ${r.reasons!.map((x) => `${x.code}: ${x.message}`).join('; ')}`,
    );
  for (const p of d?.problems ?? []) lines.push(`  record ${p.index}: ${p.code}: ${p.message}`);
  if (lines.length > max) return [...lines.slice(0, max), `  … and ${lines.length - max} more`];
  return lines;
}

/**
 * Runs one command line and returns the exit code. Everything outside (output, files, HTTP,
 * the clock) comes from `deps`, so tests run it whole.
 */
export async function run(argv: readonly string[], deps: Deps): Promise<number> {
  const { io } = deps;
  let parsed: ReturnType<typeof parseCommandLine>;
  try {
    parsed = parseCommandLine(argv, deps.env);
  } catch (err) {
    if (err instanceof UsageError) {
      io.stderr(`${errorLine(err)}\n${err.usage ? `\n${err.usage}` : ''}`);
      return exitCodeFor(err);
    }
    throw err;
  }
  if (parsed.kind === 'help') {
    io.stdout(parsed.text);
    return 0;
  }
  const ctx = makeContext(deps, parsed);
  try {
    return await HANDLERS[parsed.id](ctx);
  } catch (err) {
    io.stderr(`${errorLine(err)}\n`);
    if (err instanceof UsageError) io.stderr(`\n${err.usage ?? commandUsage(parsed.spec)}`);
    if (err instanceof ServiceError) {
      const lines = detailLines(err.details);
      if (lines.length > 0) io.stderr(`${lines.join('\n')}\n`);
    }
    return exitCodeFor(err);
  }
}
