import { DatasetSpec } from '@mlops/contracts';
import { cardsSpec, generateCards } from '@mlops/datagen';
import { fitFeatureset, recordLabel, splitOf, transform } from '@mlops/features';
import type { TrainingData } from './loop';

/**
 * Generated card transactions (about 2 % fraud) as the feature service would materialise them:
 * the cards spec's featureset fitted on the records, every row transformed, split by entity.
 * For the trainer's acceptance tests and benchmark, which must not need a broker.
 */
export function cardsTrainingData(
  n: number,
  seed: number,
): TrainingData & { test: Uint32Array; names: string[] } {
  const spec = DatasetSpec.parse(cardsSpec());
  const { records } = generateCards({ n, seed });
  const rows = records as unknown as Record<string, unknown>[];
  const fs = fitFeatureset(spec, rows);
  const columns = fs.names.length;
  const values = new Float32Array(rows.length * columns);
  const labels = new Float64Array(rows.length);
  const splits: number[][] = [[], [], []];
  rows.forEach((r, i) => {
    values.set(transform(fs, r), i * columns);
    const y = recordLabel(fs, r);
    labels[i] = y ?? NaN;
    if (y === null) return;
    const s = splitOf(String(r.card_id), fs.spec.split);
    splits[s === 'train' ? 0 : s === 'validation' ? 1 : 2].push(i);
  });
  return {
    values,
    columns,
    labels,
    train: Uint32Array.from(splits[0]),
    validation: Uint32Array.from(splits[1]),
    test: Uint32Array.from(splits[2]),
    names: fs.names,
  };
}
