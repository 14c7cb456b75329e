import {
  resolveCompressionSpec,
  resolveServingSpec,
  type ModelCompressedEvent,
  type ModelSection,
  type OffsetRange,
  type TrainingSection,
} from '@mlops/contracts';
import { decodeMatrix, labelledSplitRows } from '@mlops/features';
import { RegistryClient, RegistryError } from '@mlops/registry-client';
import {
  agreement,
  buildVariant,
  dropPoints,
  gatherRows,
  measureOnnx,
  parseLayersArtifact,
  primaryMetric,
  type BuildContext,
  type Built,
  type OnnxMeasurement,
  type Task,
} from '@mlops/training';
import { CompressJobError, type CompressJobInput, type CompressJobResult } from './compress.types';

interface Hooks {
  log(level: 'info' | 'warn', msg: string, fields?: Record<string, unknown>): void;
}

interface TrainingReport {
  task: Task;
  classes: string[] | null;
  featureNames: string[];
  params: { model: ModelSection; training: TrainingSection };
  artifacts?: {
    weights: { uri: string; sha256: string; size: number };
    matrix: { uri: string; sha256: string; size: number };
  };
}

/**
 * One compression job: every method the spec asks for, each built from the parent's trained
 * layers, measured in onnxruntime-node on the test split against the parent measured the same
 * way, gated on the accuracy budget, and (accepted or not) uploaded and returned as the
 * models.compressed.v1 event to publish. One recommended variant: the fastest at batch 32 of
 * those accepted, the smaller on a tie.
 */
export async function runCompressionJob(
  input: CompressJobInput,
  hooks: Hooks,
): Promise<CompressJobResult> {
  const started = performance.now();
  const c = resolveCompressionSpec(input.spec);
  const registry = new RegistryClient({ url: input.registry.url, apiKey: input.registry.apiKey });
  const parent = input.parent;
  const tags = parent.tags;
  if (!tags['mlops.report.uri'])
    throw new CompressJobError(
      'no_report',
      `${parent.model} v${parent.version} has no training report`,
    );
  const report = JSON.parse(
    (
      await download(registry, {
        uri: tags['mlops.report.uri'],
        sha256: tags['mlops.report.sha256'],
        size: Number(tags['mlops.report.size']),
      })
    ).toString('utf8'),
  ) as TrainingReport;
  if (!report.artifacts)
    throw new CompressJobError(
      'no_weights',
      `the report of ${parent.model} v${parent.version} names no trained weights`,
    );
  const layers = parseLayersArtifact(await download(registry, report.artifacts.weights));
  const matrix = decodeMatrix(await download(registry, report.artifacts.matrix));
  const parentBytes = await download(registry, parent.artifact);
  const task = report.task;
  const k = report.classes?.length ?? 0;
  const splits = labelledSplitRows(matrix);
  const evalRows = splits.test.length > 0 ? splits.test : splits.validation;
  if (evalRows.length === 0)
    throw new CompressJobError('empty_split', 'no labelled test or validation rows to measure on');
  const cols = matrix.header.columns;
  const x = gatherRows(matrix.values, cols, evalRows);
  const y = Array.from(evalRows, (r) => matrix.labels[r]);
  const metricName = primaryMetric(task, c.budget.metric);
  const measure = (bytes: Uint8Array) =>
    measureOnnx(bytes, {
      task,
      classes: k,
      x,
      columns: cols,
      labels: y,
      metric: metricName,
      latencyRuns: c.latencyRuns,
      // Scored in the batches the server will make: INT8 dynamic's activation scale is per batch.
      evalBatch: resolveServingSpec(input.spec).batching.maxBatchSize,
    });
  const parentM = await measure(parentBytes);
  hooks.log('info', 'parent measured', {
    metric: metricName,
    value: parentM.metric,
    latencyB32: parentM.latencyB32Ms,
  });

  const ctx: BuildContext = {
    c,
    layers,
    task,
    classes: report.classes,
    data: {
      values: matrix.values,
      columns: cols,
      labels: matrix.labels,
      train: splits.train,
      validation: splits.validation,
    },
    model: report.params.model,
    training: report.params.training,
    exportOptions: { task, metadata: { 'mlops.parent': `${parent.model}/${parent.version}` } },
  };
  const outcomes: { event: ModelCompressedEvent; m: OnnxMeasurement }[] = [];
  const errors: CompressJobResult['errors'] = [];
  for (const method of c.methods) {
    let built: Built;
    let m: OnnxMeasurement;
    try {
      built = await buildVariant(method, ctx);
      m = await measure(built.bytes);
    } catch (err) {
      hooks.log('warn', 'variant failed', { method, err: (err as Error).message });
      errors.push({ variant: method, message: (err as Error).message });
      continue;
    }
    const drop = dropPoints(metricName, parentM.metric, m.metric);
    const reasons: string[] = [];
    if (!Number.isFinite(m.metric))
      reasons.push(`${metricName} is undefined on the variant's outputs`);
    else if (drop > c.budget.maxDropPoints)
      reasons.push(
        `${metricName} dropped ${round(drop)} points (${round(parentM.metric)} → ${round(m.metric)}), over the budget of ${c.budget.maxDropPoints}`,
      );
    if (!m.finite) reasons.push('the variant produced non-finite outputs');
    const artifact = await registry.upload(Buffer.from(built.bytes), 'onnx');
    const metrics: Record<string, number> = {
      [metricName]: m.metric,
      [`parent_${metricName}`]: parentM.metric,
      metric_drop_pts: drop,
      size_bytes: built.bytes.length,
      parent_size_bytes: parentBytes.length,
      size_ratio: parentBytes.length / built.bytes.length,
      latency_b1_ms: m.latencyB1Ms,
      latency_b32_ms: m.latencyB32Ms,
      parent_latency_b1_ms: parentM.latencyB1Ms,
      parent_latency_b32_ms: parentM.latencyB32Ms,
      speedup_b1: parentM.latencyB1Ms / m.latencyB1Ms,
      speedup_b32: parentM.latencyB32Ms / m.latencyB32Ms,
      ...(task !== 'regression'
        ? { top1_agreement: agreement(task, k, parentM.outputs, m.outputs) }
        : {}),
      ...finiteOnly(m.metrics),
    };
    outcomes.push({
      m,
      event: {
        model: parent.model,
        jobId: input.jobId,
        dataset: parent.lineage.dataset!,
        datasetSpecVersion: parent.lineage.datasetSpecVersion!,
        featuresetVersion: parent.lineage.featuresetVersion!,
        artifact,
        params: { method, ...built.params },
        metrics,
        trainedOn: parent.lineage.trainedOn as OffsetRange[],
        tags: {
          'mlops.method': method,
          'mlops.parent': String(parent.version),
          // The parent's report (drift reference) describes the variant's inputs too.
          'mlops.report.uri': tags['mlops.report.uri'],
          'mlops.report.sha256': tags['mlops.report.sha256'],
          'mlops.report.size': tags['mlops.report.size'],
          ...(tags['mlops.task'] ? { 'mlops.task': tags['mlops.task'] } : {}),
        },
        description: `${method} of ${parent.model} v${parent.version}`,
        parentVersion: parent.version,
        variant: method,
        gate: { passed: reasons.length === 0, reasons },
        recommended: false,
      },
    });
    hooks.log('info', 'variant measured', { method, passed: reasons.length === 0, metrics });
  }
  const best = outcomes
    .filter((o) => o.event.gate.passed)
    .sort(
      (a, b) =>
        a.m.latencyB32Ms - b.m.latencyB32Ms ||
        a.event.metrics.size_bytes - b.event.metrics.size_bytes,
    )[0];
  if (best) best.event.recommended = true;
  return {
    parentMetric: { name: metricName, value: parentM.metric },
    variants: outcomes.map((o) => ({ event: o.event })),
    errors,
    durationMs: performance.now() - started,
  };
}

function finiteOnly(m: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(m).filter(([, v]) => Number.isFinite(v)));
}

const round = (v: number) => Math.round(v * 1e4) / 1e4;

async function download(
  registry: RegistryClient,
  ref: { uri: string; sha256: string; size: number },
): Promise<Buffer> {
  try {
    return await registry.download(ref);
  } catch (err) {
    if (err instanceof RegistryError && err.status === null && /sha256/.test(err.message))
      throw new CompressJobError('artifact_mismatch', err.message);
    throw new CompressJobError('registry_unavailable', (err as Error).message);
  }
}
