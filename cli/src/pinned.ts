import { ArtifactRef, validateRecord, type DatasetSpec } from '@mlops/contracts';
import { parseFeaturesetArtifact, transform, type Featureset } from '@mlops/features';
import type { InferenceClient, InferOutput } from './clients/inference';
import type { RegistryClient } from './clients/registry';
import { CliError, EXIT, InputError } from './errors';

/**
 * `mlops predict <model> --version N`: `/v1/predict` always routes by the aliases, so a pinned
 * version is scored the way the inference service itself does it, on the client: the
 * version's training report names its featureset; each record is checked against the dataset
 * spec (without the label) and turned into its vector by that featureset (libs/features, the
 * code the feature and inference services run), then `/v2/models/:m/versions/:v/infer` scores
 * the matrix. The version must be served (behind an alias).
 */

export interface Prediction {
  entityId: string;
  score: number | null;
  label: string | number | null;
  version: number;
  alias: string | null;
}

export interface Featurized {
  width: number;
  data: number[];
  entityIds: string[];
}

/** Records → one FP32 row each, or an InputError listing the records that fail the spec. */
export function featurize(
  spec: DatasetSpec,
  fs: Featureset,
  records: { record: Record<string, unknown>; line: number }[],
): Featurized {
  const label = spec.fields.find((f) => f.type === 'label')?.name;
  const serving: DatasetSpec = { ...spec, fields: spec.fields.filter((f) => f.type !== 'label') };
  const width = fs.names.length;
  const data: number[] = [];
  const entityIds: string[] = [];
  const problems: string[] = [];
  for (const { record, line } of records) {
    const copy = { ...record };
    if (label) delete copy[label];
    const checked = validateRecord(serving, copy);
    if (!checked.ok) {
      problems.push(
        `record at line ${line}: ${checked.problems.map((p) => `${p.code} ${p.message}`).join('; ')}`,
      );
      continue;
    }
    const vector = transform(fs, checked.record);
    const bad = vector.findIndex((x) => !Number.isFinite(x));
    if (bad >= 0) {
      problems.push(`record at line ${line}: feature ${fs.names[bad]} is not a finite number`);
      continue;
    }
    data.push(...vector);
    entityIds.push(checked.entityId);
  }
  if (problems.length > 0)
    throw new InputError(
      `${problems.length} of ${records.length} records do not pass the ${spec.name} spec:\n  ${problems.slice(0, 20).join('\n  ')}`,
    );
  return { width, data, entityIds };
}

/** Row `row` of an output tensor (flat data, first dimension = rows). */
function rowOf(t: InferOutput, row: number): (number | string | boolean)[] {
  const per = t.shape.slice(1).reduce((a, b) => a * b, 1);
  return t.data.slice(row * per, (row + 1) * per);
}

/**
 * Score and label of one row, as the inference service reads its outputs: `probability`
 * (binary: P(class 1), label by 0.5), `probabilities` (argmax; the score is P(class 1) for two
 * classes, else the top probability), `prediction` (regression).
 */
export function interpretRow(
  outputs: InferOutput[],
  row: number,
  classes: string[] | null,
): { score: number | null; label: string | number | null } {
  const byName = new Map(outputs.map((o) => [o.name, o]));
  const name = (i: number) => classes?.[i] ?? i;
  const p = byName.get('probability');
  if (p) {
    const score = Number(rowOf(p, row)[0]);
    return { score, label: name(score >= 0.5 ? 1 : 0) };
  }
  const probs = byName.get('probabilities');
  if (probs) {
    const values = rowOf(probs, row).map(Number);
    let best = 0;
    for (let i = 1; i < values.length; i++) if (values[i] > values[best]) best = i;
    return { score: values.length === 2 ? values[1] : values[best], label: name(best) };
  }
  const prediction = byName.get('prediction');
  if (prediction) return { score: Number(rowOf(prediction, row)[0]), label: null };
  return { score: null, label: null };
}

interface Report {
  task?: string;
  classes?: unknown[] | null;
  artifacts?: { featureset?: unknown };
}

export async function predictPinned(
  registry: RegistryClient,
  inference: InferenceClient,
  model: string,
  version: number,
  records: { record: Record<string, unknown>; line: number }[],
  chunk = 256,
): Promise<Prediction[]> {
  const v = await registry.getVersion(model, version);
  const uri = v.tags['mlops.report.uri'];
  if (!uri || !v.lineage.dataset)
    throw new CliError(
      `${model} v${version} has no training report (registered by hand?): send tensors to /v2/models/${model}/versions/${version}/infer`,
      EXIT.FAILURE,
    );
  const report = JSON.parse(
    (
      await registry.download({
        uri,
        sha256: v.tags['mlops.report.sha256'],
        size: Number(v.tags['mlops.report.size']),
      })
    ).toString('utf8'),
  ) as Report;
  const ref = ArtifactRef.safeParse(report.artifacts?.featureset);
  if (!ref.success)
    throw new CliError(
      `the training report of ${model} v${version} names no featureset`,
      EXIT.FAILURE,
    );
  const fs = parseFeaturesetArtifact(await registry.download(ref.data));
  const spec = (await registry.getSpec(v.lineage.dataset)).spec;
  const meta = await inference.metadata(model, version);
  const input = meta.inputs[0];
  if (meta.inputs.length !== 1 || input.datatype !== 'FP32')
    throw new CliError(
      `${model} v${version} does not take one FP32 input: use /v2 infer`,
      EXIT.FAILURE,
    );
  const classes = Array.isArray(report.classes) ? report.classes.map(String) : null;
  const out: Prediction[] = [];
  for (let i = 0; i < records.length; i += chunk) {
    const part = records.slice(i, i + chunk);
    const f = featurize(spec, fs, part);
    const rows = f.entityIds.length;
    const { response, alias } = await inference.infer(model, version, {
      inputs: [{ name: input.name, datatype: 'FP32', shape: [rows, f.width], data: f.data }],
      parameters: { entity_ids: f.entityIds },
    });
    for (let r = 0; r < rows; r++)
      out.push({
        entityId: f.entityIds[r],
        ...interpretRow(response.outputs, r, classes),
        version,
        alias,
      });
  }
  return out;
}
