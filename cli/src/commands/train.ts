import { DATASET_NAME } from '@mlops/contracts';
import { str, trainingRange } from '../args';
import type { Context } from '../context';
import { EXIT, UsageError } from '../errors';
import { formatTime } from '../format';

/** `mlops train --dataset d [--since 24h | --from ISO [--to ISO]]`. */
export async function train(ctx: Context): Promise<number> {
  const dataset = str(ctx.opts.dataset)!;
  if (!DATASET_NAME.test(dataset))
    throw new UsageError(
      `--dataset must be lower case letters, digits, _ or -, not ${JSON.stringify(dataset)}`,
    );
  const range = trainingRange(
    { since: str(ctx.opts.since), from: str(ctx.opts.from), to: str(ctx.opts.to) },
    ctx.now(),
  );
  const reason = str(ctx.opts.reason) ?? 'requested with the mlops CLI';
  const requestId = str(ctx.opts['request-id']);
  const request = await ctx.feature.requestTraining(dataset, {
    reason,
    ...(requestId ? { requestId } : {}),
    ...(range ? { range } : {}),
  });
  ctx.emit(request, () => {
    const r = request.range;
    const what =
      r.kind === 'time'
        ? `records ingested ${formatTime(r.from)} → ${formatTime(r.to)}`
        : `events.clean.v1 offsets ${r.partitions.map((p) => `p${p.partition} [${p.from}, ${p.to})`).join(', ')}`;
    return `training request ${request.requestId} for ${dataset}: ${what}\nfollow it with: mlops jobs --trainer\n`;
  });
  return EXIT.OK;
}
